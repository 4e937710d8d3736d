/**
 * The real-time tail of a read: the facts that history and the view have not absorbed yet, read in
 * the same statement as the segments, so that an answer counts every committed row whatever its
 * timestamp (late rows included), not only what the last refresh saw.
 *
 * For the runs source these are the jobs past the view's id watermark (the view's definition stops
 * at it: src/maintenance/ddl.ts) and the orphan jobs held back for a run that may have come since.
 * The tail covers the time the segments cover (the raw edges already read every row of theirs), and
 * is never cached. The statement also returns the view version it saw: cached segments of another
 * version would not match the tail (a cycle absorbed some of it in between), and the read is then
 * made again from one snapshot (src/queries/parts.ts).
 */
import type { Params } from '../db/sql.ts';
import { TABLES } from '../db/tables.ts';
import { SOURCES } from '../maintenance/sources.ts';
import { conditions, rawDim, select, type Measure, type PartsRequest, type RollupSpec } from './rollup.ts';
import type { Range } from './window.ts';

/** Tags of the tail's rows in a parts statement (segments are tagged 0.., the raw edges -1). */
export const TAIL_PART = -2;
/** One row: the view version (refresh-log id) the statement saw, as its first measure. */
export const VERSION_PART = -3;
/** One row: how many facts the tail added, as its first measure. */
export const TAIL_ROWS_PART = -4;

/** Whether a query's source can say which facts its materialization has not absorbed. */
export const realtimeCapable = (spec: RollupSpec): boolean => SOURCES[spec.facts.source].unabsorbedFrom !== undefined;

/** The tail's CTE (named tail) and its selects: its partials, the version row and the count row. */
export function tailSql(spec: RollupSpec, ranges: readonly Range[], req: PartsRequest, p: Params): { cte: string; selects: string[] } {
  const from = SOURCES[spec.facts.source].unabsorbedFrom!(spec.view, p);
  const measures = Object.entries(spec.measures);
  const name = new Map<Measure, string>(measures.map(([n, m]) => [m, n]));
  const cols = [`${spec.facts.ts} AS ts`, ...req.groupDims.map((d) => `(${rawDim(spec, d)})::text AS ${d}`), ...measures.map(([n, m]) => `${m.raw} AS m_${n}`)];
  const where = [
    `${spec.facts.ts} IS NOT NULL`,
    `(${ranges.map((r) => spec.facts.timeIn(p, r)).join(' OR ')})`,
    ...conditions(req, p, (d) => rawDim(spec, d), (d) => d in spec.facts.dims),
  ];
  const cte = `tail AS MATERIALIZED (\nSELECT ${cols.join(', ')}\n  FROM ${from}\n WHERE ${where.join('\n   AND ')}\n)`;
  const part = select(req, spec, TAIL_PART, (d) => `tl.${d}`, 'tl.ts', (m) => `tl.m_${name.get(m)}`);
  // The one-row selects fill the part's other columns with NULLs of their types.
  const blanks = [...req.groupDims.map((d) => `NULL::text AS ${d}`), ...(req.bucketGrain ? ['NULL::bigint AS t'] : [])];
  const first = (tag: number, value: string) =>
    `SELECT ${[`${tag} AS part`, ...blanks, ...measures.map(([n], i) => `${i === 0 ? `(${value})::float8` : 'NULL::float8'} AS ${n}`)].join(', ')}`;
  const v = p.add(spec.view);
  return {
    cte,
    selects: [
      `SELECT ${part.cols}\n  FROM tail tl${part.groupBy}`,
      first(VERSION_PART, `SELECT l.id FROM ${TABLES.refreshLog} l WHERE l.view_name = ${v} AND l.outcome = 'refreshed' ORDER BY l.id DESC LIMIT 1`),
      first(TAIL_ROWS_PART, 'SELECT count(*) FROM tail'),
    ],
  };
}
