/**
 * Serving one compiled query: validate the parameters once, check constrained users' filters,
 * read the merged parts (src/read/parts.ts) and finalise the answer.
 */
import { MAX_PATTERN_CHECKS, patternChecks, SCOPED_FIELDS, valueAllowed, type Access, type ScopedField } from '../auth/acl.ts';
import type { Admission } from '../core/admission.ts';
import type { Executor } from '../db/executor.ts';
import { PermissionError, ValidationError } from '../core/errors.ts';
import { describeIssues } from '../core/validation.ts';
import { clipArrays } from '../declarations/params.ts';
import type { Deliveries, PartsCache } from './parts-cache.ts';
import { readParts } from './parts.ts';
import type { CompiledQuery } from '../declarations/types.ts';
import { resolveWindow } from '../rollup/window.ts';
import type { PartRow } from '../rollup/spec.ts';

export interface QueryResult {
  readonly params: Record<string, unknown>;
  readonly data: Record<string, unknown>[];
  readonly meta: {
    readonly view: string;
    readonly refreshed_at: string | null;
    /**
     * A real-time answer: from the primary 0, or, when its tail came from this process's cache because
     * nothing was in flight, how long ago the stable-id probe that found so began (under its interval);
     * the replica's replay lag from a replica; else how old the last refresh is.
     */
    readonly staleness_ms: number | null;
    /** The database that answered: the primary, or a streaming replica (DATABASE_READ_URL). */
    readonly database: 'primary' | 'replica';
    /** From a replica: its replay lag as measured at most a second before (ms); null from the primary or when unknown. */
    readonly replica_lag_ms: number | null;
    /** Counts every committed row (the tail added what the last refresh had not absorbed). */
    readonly realtime: boolean;
    /** Facts the real-time tail added (null: not real-time). */
    readonly tail_rows: number | null;
    readonly source_checked_at: string | null;
    readonly row_count: number;
    readonly truncated: boolean;
  };
  /** Answered from an answer this process holds: how it was last sent (src/read/parts-cache.ts Delivery). */
  readonly deliveries?: Deliveries;
  /**
   * A query whose answer rows are each made from one merged row (QueryPlan.rowwise): those merged
   * rows, in the order of `data`, and the row function's key. A merged row is never changed once
   * made (src/read/merge.ts), so its answer row's JSON text may be reused (src/http/row-texts.ts).
   */
  readonly sources?: RowSources;
}

export interface RowSources {
  readonly key: string;
  readonly rows: readonly PartRow[];
  /** The answer row of a merged row (QueryPlan.rowwise.row): `data[i]` is `row(rows[i])`. */
  readonly row: (r: PartRow) => Record<string, unknown>;
}

export interface PreparedQuery {
  readonly params: Record<string, unknown>;
  /** `realtime`: add the facts the materialization has not absorbed yet, where the query's source can say which. */
  readonly run: (executor: Executor, cache: PartsCache, realtime?: boolean, user?: string, admission?: Admission) => Promise<QueryResult>;
}

function checkFilterPermissions(query: CompiledQuery, params: Record<string, unknown>, access: Access): void {
  if (access.kind !== 'constrained') return;
  const fields = SCOPED_FIELDS.filter((f) => query.filters.includes(f));
  const cost = (f: ScopedField) => patternChecks(access, f, (params[f] as string[] | undefined)?.length ?? 0);
  const checks = fields.reduce((n, f) => n + cost(f), 0);
  if (checks > MAX_PATTERN_CHECKS) {
    throw new ValidationError(
      `${fields.filter((f) => cost(f) > 0).map((f) => `'${f}'`).join(', ')}: your filter values times your access patterns come to ${checks} checks; at most ${MAX_PATTERN_CHECKS} are made per request: send fewer values`,
    );
  }
  for (const field of fields) {
    const values = params[field] as string[] | undefined;
    const denied = values?.find((v) => !valueAllowed(access, field as ScopedField, v));
    if (denied !== undefined) {
      throw new PermissionError(`filter '${field}' asks for '${denied}', which is outside your access constraints`);
    }
  }
}

/** Validates and normalises everything the client sent; throws ValidationError / PermissionError. */
export function prepareQuery(query: CompiledQuery, body: Record<string, unknown>, access: Access, now: number): PreparedQuery {
  const parsed = query.params.safeParse(clipArrays(body));
  if (!parsed.success) throw new ValidationError(describeIssues(parsed.error.issues));
  const raw = parsed.data as Record<string, unknown> & { timestamp_start?: number; timestamp_end?: number; days?: number };
  const window = resolveWindow(raw, now);
  if ('error' in window) throw new ValidationError(window.error);
  checkFilterPermissions(query, raw, access);
  const { days: _days, ...rest } = raw;
  const params = { ...rest, timestamp_start: window.start, timestamp_end: window.end };
  const plan = query.plan({ params: params as never, window, access });

  return {
    params,
    async run(executor, cache, realtime = false, user, admission) {
      const parts = await readParts(query.rollup, plan.parts, executor, cache, plan.rank, realtime, user, admission);
      const { rowwise } = plan;
      // A rowwise answer's rows are made when first read: a JSON answer whose row texts are all kept
      // (src/http/row-texts.ts) never makes them.
      const finalized = rowwise ? undefined : plan.finalize(parts.page);
      const truncated = finalized ? finalized.truncated : parts.page.truncated;
      const rowCount = finalized ? finalized.rows.length : parts.page.rows.length;
      const { refreshedAt, sourceCheckedAt } = parts.state;
      const live = parts.tailRows !== undefined;
      const origin = executor.origin?.();
      const replica = origin?.database === 'replica';
      const lag = replica ? origin.lagMs : null;
      const result: Omit<QueryResult, 'data'> = {
        params,
        meta: {
          view: query.rollup.view,
          refreshed_at: refreshedAt?.toISOString() ?? null,
          staleness_ms: live ? (replica ? lag : (parts.stalenessMs ?? 0)) : refreshedAt ? Math.max(0, now - refreshedAt.getTime()) : null,
          database: replica ? 'replica' : 'primary',
          replica_lag_ms: lag,
          realtime: live,
          tail_rows: parts.tailRows ?? null,
          source_checked_at: sourceCheckedAt?.toISOString() ?? null,
          row_count: rowCount,
          truncated,
        },
        ...(parts.deliveries ? { deliveries: parts.deliveries } : {}),
        ...(rowwise ? { sources: { key: `${query.name}|${rowwise.key}`, rows: parts.page.rows, row: rowwise.row } } : {}),
      };
      if (finalized) return { ...result, data: finalized.rows };
      let made: Record<string, unknown>[] | undefined;
      return Object.defineProperty(result, 'data', { enumerable: true, get: () => (made ??= parts.page.rows.map(rowwise!.row)) }) as QueryResult;
    },
  };
}
