/**
 * The shared engine of the compiled queries. Each materialized view stores one or more *levels*
 * (a set of dimensions) at one or more *grains* (day, hour, minute); a level may keep its finest
 * grains only for recent facts (its *recent tier*, from a day-aligned cutoff the view itself
 * shows). A read picks the smallest level that holds every dimension it groups or filters by, takes
 * whole buckets from the view and the partial edges from the base tables, so the answer is exact
 * to the millisecond.
 *
 * This module declares the model; src/read/plan.ts plans a read over it and writes its parts' SQL.
 * Every part is a partial aggregate per group (and per output time bucket): measures declare how
 * partials combine (sum, min, max), so parts from different sources merge into the same answer.
 *
 * View layout (every view): lvl, grain_ms, bucket (epoch ms), null_mask, the dimensions (NOT NULL,
 * '' where null_mask marks them NULL), then the measures. The unique index the concurrent refresh
 * needs is on (lvl, grain_ms, bucket, null_mask, dims...): all NOT NULL, so unchanged rows match in
 * the refresh diff instead of being rewritten every time.
 */
import type { Access } from '../auth/acl.ts';
import type { Params } from '../db/sql.ts';
import { TABLES, type ViewName } from '../db/tables.ts';
import type { Grain, Range, TimeWindow } from './window.ts';

export type Dim = 'tenant_id' | 'source_app' | 'environment' | 'catalog_id' | 'country' | 'status_type';

export interface Level {
  /** The view's lvl value for this level. */
  readonly id: number;
  readonly dims: readonly Dim[];
  /** Coarse to fine. */
  readonly grains: readonly Grain[];
  /** Grains of `grains` kept only for recent facts (the view's recent tier). */
  readonly recent?: readonly Grain[];
  /**
   * High-cardinality dimensions a filter on which reads through an index of their own on the history
   * table, (grain_ms, dim, bucket) over this level's rows: a filter on one catalog then reads that
   * catalog's rows, not every catalog's (src/maintenance/ddl.ts writes it, src/read/plan.ts uses it).
   */
  readonly indexes?: readonly Dim[];
}

/** How a fact table changes, and so how its history is maintained (src/maintenance/sources.ts). */
export type SourceName = 'runs' | 'status_change';

export interface FactSource {
  readonly source: SourceName;
  /** FROM clause over the base tables (fixed aliases). */
  readonly from: string;
  /** Epoch-ms time of a fact (bigint expression). */
  readonly ts: string;
  /** The condition "fact time in [from, to)"; values go through p. */
  timeIn(p: Params, r: Range): string;
  readonly dims: Readonly<Partial<Record<Dim, string>>>;
}

/** How two partial values of a measure combine. */
export type Combine = 'sum' | 'min' | 'max';

export interface Measure {
  /** Its value in a view row. */
  readonly view: string;
  /** Its value for one raw fact row. */
  readonly raw: string;
  readonly combine: Combine;
  /** Its column type in the view and the history table (default bigint). */
  readonly type?: 'bigint' | 'numeric';
}

export interface RollupSpec {
  /** Its materialized view (recent buckets); the history table and the union reads take are named after it (src/rollup/layout.ts). */
  readonly view: ViewName;
  /** Dimension columns of the view; bit i of null_mask marks dims[i] as NULL. */
  readonly dims: readonly Dim[];
  readonly levels: readonly Level[];
  readonly facts: FactSource;
  readonly measures: Readonly<Record<string, Measure>>;
  /**
   * Set when this spec is a query's reading of a view that several queries share (`readingOf`): the
   * view's own declaration, which maintenance, migrations and the drift test build. Absent: the
   * spec is the view's.
   */
  readonly stored?: RollupSpec;
}

/** The declaration of the view a spec reads: what is stored, maintained and migrated. */
export function storedSpec(spec: RollupSpec): RollupSpec {
  return spec.stored ?? spec;
}

/**
 * A query's reading of a shared view: the view's levels, dimensions and facts, and the measures the
 * query names, each taken from a stored column (`{ total: 'job_count' }` reads job_count as total).
 * Several queries over the same facts then store each level once (issue 29).
 */
export function readingOf(stored: RollupSpec, columns: Readonly<Record<string, string>>): RollupSpec {
  const measures = Object.fromEntries(
    Object.entries(columns).map(([name, column]) => {
      const m = stored.measures[column];
      if (!m) throw new Error(`${stored.view} stores no measure ${column}`);
      return [name, m];
    }),
  );
  return { ...stored, measures, stored };
}

export interface PartsRequest {
  readonly window: TimeWindow;
  readonly filters: Readonly<Partial<Record<Dim, readonly string[]>>>;
  readonly groupDims: readonly Dim[];
  readonly access: Access;
  /** Output time buckets (a column `t`, epoch ms): grains coarser than this cannot be used. */
  readonly bucketGrain?: Grain;
}

/** A partial aggregate: the group dims, `t` when the request has output buckets, the measures. */
export type PartRow = Record<string, string | number | null>;

/** Where each (recent-tier) level's fine grains start, by level id; absent: not available. */
export type Coverage = ReadonlyMap<number, number>;

/** Every level with a recent tier has it from fine_from on (the maintenance row; src/maintenance/cycle.ts). */
export function coverageOf(spec: RollupSpec, fineFrom: number | null): Coverage {
  const out = new Map<number, number>();
  if (fineFrom === null) return out;
  for (const l of spec.levels) if (l.recent?.length) out.set(l.id, fineFrom);
  return out;
}

/** The measure that counts facts (raw '1', summed): a signed source's row whose count reaches 0 holds no fact any more, and a read estimates facts with it (src/read/plan.ts). */
export function countMeasure(spec: RollupSpec): string {
  const found = Object.entries(spec.measures).find(([, m]) => m.raw === '1' && m.combine === 'sum');
  if (!found) throw new Error(`${spec.view}: every query needs a count measure (raw '1', combine sum)`);
  return found[0];
}

/** The base-table expression of a dimension (its fact expression). */
export function rawDim(spec: RollupSpec, dim: Dim): string {
  const expr = spec.facts.dims[dim];
  if (!expr) throw new Error(`dimension ${dim} has no fact expression`);
  return expr;
}

/** The jobs of the runs topic: a job is in the window when its run's timestamp_start is. */
export const RUN_JOB_FACTS: FactSource = {
  source: 'runs',
  // The runs of a window edge are few; without the OFFSET 0 fence the planner may hash-join them
  // against a sequential scan of every job instead of probing the jobs' event_id index per run.
  from: `${TABLES.runs} r CROSS JOIN LATERAL (SELECT * FROM ${TABLES.runsJobs} j0 WHERE j0.event_id = r.event_id OFFSET 0) j`,
  ts: 'r.timestamp_start',
  timeIn: (p, r) => `(r.timestamp_start >= ${p.add(r.from)} AND r.timestamp_start < ${p.add(r.to)})`,
  dims: {
    tenant_id: 'r.tenant_id',
    source_app: 'r.source_app',
    environment: 'r.environment',
    catalog_id: 'j.catalog_id',
    country: 'j.country',
  },
};

/**
 * Epoch ms as a timestamp PostgreSQL reads. A window may end at 9999-12-31T23:59:59.999, so its
 * half-open end is in year 10000, which toISOString() writes with a sign ('+010000-...') that
 * PostgreSQL refuses.
 */
function pgTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/^\+0*/, '');
}

/** Rows of the status-change table: in the window when created_at is (compared at ms precision). */
export const STATUS_CHANGE_FACTS: FactSource = {
  source: 'status_change',
  from: `${TABLES.statusChange} s`,
  ts: 'floor(extract(epoch FROM s.created_at) * 1000)::bigint',
  timeIn: (p, r) => `(s.created_at >= ${p.add(pgTimestamp(r.from))}::timestamptz AND s.created_at < ${p.add(pgTimestamp(r.to))}::timestamptz)`,
  dims: {
    tenant_id: 's.tenant_id',
    source_app: 's.source_app',
    environment: 's.environment',
    country: 's.country',
    status_type: 's.status_type',
  },
};
