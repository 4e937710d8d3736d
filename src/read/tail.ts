/**
 * The real-time tail of a read: the facts that history and the view have not absorbed yet, read in
 * the same statement as the segments, so that an answer counts every committed row whatever its
 * timestamp (late rows included), not only what the last cycle saw.
 *
 * For the runs source these are the jobs past the view's id watermark (the view's definition stops
 * at it: src/maintenance/ddl.ts), the orphan jobs held back for a run that may have come since, and
 * the held-back jobs (ids up to the watermark that the last cycle could not see while their writer
 * was open: src/maintenance/sources.ts) that have committed since.
 * The tail covers the time the segments cover (the raw edges already read every row of theirs).
 *
 * Reading every unabsorbed job again on every request would cost each read the writes of the whole
 * minute since the last cycle (about 8 µs a job at 10M, mostly the run probe by event_id), so the
 * process keeps, per request shape and view version, the tail's partials up to a *stable* id: one
 * that every writer holding a lower id has finished with (src/read/stable-ids.ts). A job at or
 * below it that is committed now is visible to every later snapshot, so its partial never changes
 * (until a cycle absorbs it and the version moves on). Each read then reads only the jobs past the
 * cached stable id, the jobs of the cached part that had no run yet (pending), and the view's orphan
 * and held-back jobs (never cached: the next cycle absorbs them); it hands back the newly stable
 * part (merged into the cache) apart from the rest.
 *
 * The statement also returns the view version it saw: cached segments and a cached tail of another
 * version would not match (a cycle absorbed some of it in between), and the read is then made again
 * from one snapshot with nothing cached (src/read/parts.ts).
 */
import type { Params } from '../db/sql.ts';
import { versionSql } from '../rollup/refresh-log.ts';
import { UNABSORBED } from '../rollup/unabsorbed.ts';
import { rawDim, type PartRow, type PartsRequest, type RollupSpec } from '../rollup/spec.ts';
import { conditions, partial, partKeys } from './plan.ts';
import type { Range } from '../rollup/window.ts';

/** Tags of the tail's rows in a parts statement (segments are tagged 0.., the raw edges -1). */
export const TAIL_PART = -2;
/** One row: the view version (refresh-log id) the statement saw, as its first measure. */
export const VERSION_PART = -3;
/** Partials of the jobs that became stable with this read (merged into the cached tail). */
export const STABLE_PART = -5;
/** One row per stable job without a run yet: its id as the first measure (probed again next time). */
export const PENDING_PART = -6;
/** The column of a real-time statement's rows that holds how many facts a tail row aggregates. */
export const FACTS_COLUMN = 'facts';

/** Whether a query's source can say which facts its materialization has not absorbed. */
export const realtimeCapable = (spec: RollupSpec): boolean => UNABSORBED[spec.facts.source] !== undefined;

/** What a process holds of a tail: partials of the stable jobs up to `stableTo`, and the stable jobs that had no run yet. */
export interface CachedTail {
  readonly stableTo: number;
  readonly pending: readonly number[];
  readonly groups: ReadonlyMap<string, PartRow>;
  /** Facts in `groups`. */
  readonly rows: number;
  /**
   * Read while nothing was in flight (src/read/stable-ids.ts Quiet): the newest cycle then. Such a
   * tail is the whole tail while a later probe finds the same stable id and cycle, and nothing in flight.
   */
  readonly quiet?: { readonly stable: number; readonly cycle: string | null };
}

/**
 * The tail as one grouped select, and the version row. Each row is tagged: TAIL_PART (not yet
 * stable), STABLE_PART (stable from this read on: merged into the cache), or PENDING_PART (a stable
 * job without its run: its id). Every row also carries FACTS_COLUMN, how many facts it aggregates.
 * `cached`: what the process holds (only jobs past its stableTo, and its pending ones, are read);
 * `stableTo`: the stable id now (at least cached.stableTo).
 */
export function tailSql(
  spec: RollupSpec,
  ranges: readonly Range[],
  req: PartsRequest,
  p: Params,
  cached: Pick<CachedTail, 'stableTo' | 'pending'> | undefined,
  stableTo: number,
): { tail: string; version: string } {
  const measures = Object.entries(spec.measures);
  const only = { after: p.add(cached?.stableTo ?? 0), pending: p.add(cached?.pending ?? []) };
  const { from, id, orphan } = UNABSORBED[spec.facts.source]!(spec.view, p, only);
  const ts = spec.facts.ts;
  const noRun = `${ts} IS NULL`;
  const stable = `(NOT ${orphan} AND ${id} <= ${p.add(stableTo)}::bigint)`;
  const tag = `CASE WHEN ${noRun} THEN ${PENDING_PART} WHEN ${stable} THEN ${STABLE_PART} ELSE ${TAIL_PART} END`;
  const keys = partKeys(req, (d) => `(${rawDim(spec, d)})`, ts);
  // A pending job is a group of its own, its id in the first measure.
  const pendingId = `max(CASE WHEN ${noRun} THEN ${id} END)::float8`;
  const cols = [
    `${tag} AS part`,
    ...keys,
    ...measures.map(([n, m], i) => `${i === 0 ? `coalesce(${pendingId}, ${partial(m, m.raw)})` : partial(m, m.raw)} AS ${n}`),
    `count(*)::float8 AS ${FACTS_COLUMN}`,
  ];
  const counted = [`(${ranges.map((r) => spec.facts.timeIn(p, r)).join(' OR ')})`, ...conditions(req, p, (d) => rawDim(spec, d), (d) => d in spec.facts.dims)];
  // A job without a run (yet) is kept only to be remembered as pending when it is stable.
  const where = `(${noRun} AND ${stable}) OR (${counted.join('\n   AND ')})`;
  const groupBy = ['1', ...keys.map((_, i) => String(i + 2)), `CASE WHEN ${noRun} THEN ${id} END`];
  const tail = `SELECT ${cols.join(', ')}\n  FROM ${from}\n WHERE ${where}\n GROUP BY ${groupBy.join(', ')}`;
  const version = versionRowSql(spec, req, p, true);
  return { tail, version };
}

/**
 * The row telling which view version (refresh-log id) a statement saw, as its first measure, the
 * part's other columns NULLs of their types; `facts`: the statement's rows carry FACTS_COLUMN.
 */
export function versionRowSql(spec: RollupSpec, req: PartsRequest, p: Params, facts: boolean): string {
  const blanks = [...req.groupDims.map((d) => `NULL::text AS ${d}`), ...(req.bucketGrain ? ['NULL::bigint AS t'] : [])];
  return `SELECT ${[
    `${VERSION_PART} AS part`,
    ...blanks,
    ...Object.keys(spec.measures).map((n, i) => (i === 0 ? `(${versionSql(p.add(spec.view))})::float8 AS ${n}` : `NULL::float8 AS ${n}`)),
    ...(facts ? [`NULL::float8 AS ${FACTS_COLUMN}`] : []),
  ].join(', ')}`;
}
