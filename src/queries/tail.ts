/**
 * The real-time tail of a read: the facts that history and the view have not absorbed yet, read in
 * the same statement as the segments, so that an answer counts every committed row whatever its
 * timestamp (late rows included), not only what the last cycle saw.
 *
 * For the runs source these are the jobs past the view's id watermark (the view's definition stops
 * at it: src/maintenance/ddl.ts) and the orphan jobs held back for a run that may have come since.
 * The tail covers the time the segments cover (the raw edges already read every row of theirs).
 *
 * Reading every unabsorbed job again on every request would cost each read the writes of the whole
 * minute since the last cycle (about 8 µs a job at 10M, mostly the run probe by event_id), so the
 * process keeps, per request shape and view version, the tail's partials up to a *stable* id: one
 * that every writer holding a lower id has finished with (src/queries/stable-ids.ts). A job at or
 * below it that is committed now is visible to every later snapshot, so its partial never changes
 * (until a cycle absorbs it and the version moves on). Each read then reads only the jobs past the
 * cached stable id, the jobs of the cached part that had no run yet (pending), and the view's orphan
 * jobs; it hands back the newly stable part (merged into the cache) apart from the rest.
 *
 * The statement also returns the view version it saw: cached segments and a cached tail of another
 * version would not match (a cycle absorbed some of it in between), and the read is then made again
 * from one snapshot with nothing cached (src/queries/parts.ts).
 */
import type { Params } from '../db/sql.ts';
import { TABLES } from '../db/tables.ts';
import { SOURCES } from '../maintenance/sources.ts';
import { conditions, rawDim, select, type Measure, type PartRow, type PartsRequest, type RollupSpec } from './rollup.ts';
import type { Range } from './window.ts';

/** Tags of the tail's rows in a parts statement (segments are tagged 0.., the raw edges -1). */
export const TAIL_PART = -2;
/** One row: the view version (refresh-log id) the statement saw, as its first measure. */
export const VERSION_PART = -3;
/** One row: how many facts the unstable part added, as its first measure. */
export const TAIL_ROWS_PART = -4;
/** Partials of the jobs that became stable with this read (merged into the cached tail). */
export const STABLE_PART = -5;
/** One row per stable job without a run yet: its id as the first measure (probed again next time). */
export const PENDING_PART = -6;
/** One row: how many facts the newly stable part added, as its first measure. */
export const STABLE_ROWS_PART = -7;

/** Whether a query's source can say which facts its materialization has not absorbed. */
export const realtimeCapable = (spec: RollupSpec): boolean => SOURCES[spec.facts.source].unabsorbedFrom !== undefined;

/** What a process holds of a tail: partials of the stable jobs up to `stableTo`, and the stable jobs that had no run yet. */
export interface CachedTail {
  readonly stableTo: number;
  readonly pending: readonly number[];
  readonly groups: ReadonlyMap<string, PartRow>;
  /** Facts in `groups`. */
  readonly rows: number;
}

/**
 * The tail's CTE (named tail) and its selects. `cached`: what the process holds (only jobs past its
 * stableTo, and its pending ones, are read); `stableTo`: the stable id now (at least cached.stableTo).
 */
export function tailSql(
  spec: RollupSpec,
  ranges: readonly Range[],
  req: PartsRequest,
  p: Params,
  cached: Pick<CachedTail, 'stableTo' | 'pending'> | undefined,
  stableTo: number,
): { cte: string; selects: string[] } {
  const { from, id, orphan } = SOURCES[spec.facts.source].unabsorbedFrom!(spec.view, p, { after: p.add(cached?.stableTo ?? 0), pending: p.add(cached?.pending ?? []) });
  const measures = Object.entries(spec.measures);
  const name = new Map<Measure, string>(measures.map(([n, m]) => [m, n]));
  const stable = `(NOT ${orphan} AND ${id} <= ${p.add(stableTo)})`;
  const cols = [
    `${spec.facts.ts} AS ts`,
    `${id} AS id`,
    `${stable} AS stable`,
    `${spec.facts.ts} IS NULL AS no_run`,
    ...req.groupDims.map((d) => `(${rawDim(spec, d)})::text AS ${d}`),
    ...measures.map(([n, m]) => `${m.raw} AS m_${n}`),
  ];
  const counted = [`(${ranges.map((r) => spec.facts.timeIn(p, r)).join(' OR ')})`, ...conditions(req, p, (d) => rawDim(spec, d), (d) => d in spec.facts.dims)];
  // A job without a run (yet) is kept only to be remembered as pending when it is stable.
  const where = `(${spec.facts.ts} IS NULL AND ${stable}) OR (${counted.join('\n   AND ')})`;
  const cte = `tail AS MATERIALIZED (\nSELECT ${cols.join(', ')}\n  FROM ${from}\n WHERE ${where}\n)`;
  const part = (tag: number, which: string) => {
    const s = select(req, spec, tag, (d) => `tl.${d}`, 'tl.ts', (m) => `tl.m_${name.get(m)}`);
    return `SELECT ${s.cols}\n  FROM tail tl WHERE NOT tl.no_run AND ${which}${s.groupBy}`;
  };
  // The one-row selects fill the part's other columns with NULLs of their types.
  const blanks = [...req.groupDims.map((d) => `NULL::text AS ${d}`), ...(req.bucketGrain ? ['NULL::bigint AS t'] : [])];
  const first = (tag: number, value: string, from = '') =>
    `SELECT ${[`${tag} AS part`, ...blanks, ...measures.map(([n], i) => `${i === 0 ? `(${value})::float8` : 'NULL::float8'} AS ${n}`)].join(', ')}${from}`;
  const v = p.add(spec.view);
  return {
    cte,
    selects: [
      part(TAIL_PART, 'NOT tl.stable'),
      part(STABLE_PART, 'tl.stable'),
      first(PENDING_PART, 'tl.id', ' FROM tail tl WHERE tl.no_run'),
      first(VERSION_PART, `SELECT l.id FROM ${TABLES.refreshLog} l WHERE l.view_name = ${v} AND l.outcome = 'refreshed' ORDER BY l.id DESC LIMIT 1`),
      first(TAIL_ROWS_PART, 'SELECT count(*) FROM tail WHERE NOT no_run AND NOT stable'),
      first(STABLE_ROWS_PART, 'SELECT count(*) FROM tail WHERE NOT no_run AND stable'),
    ],
  };
}
