import { versionSql } from "../rollup/refresh-log.js";
import { UNABSORBED } from "../rollup/unabsorbed.js";
import { rawDim } from "../rollup/spec.js";
import { conditions, partial, partKeys } from "./plan.js";
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
export const realtimeCapable = (spec) => UNABSORBED[spec.facts.source] !== undefined;
/**
 * The tail as one grouped select, and the version row. Each row is tagged: TAIL_PART (not yet
 * stable), STABLE_PART (stable from this read on: merged into the cache), or PENDING_PART (a stable
 * job without its run: its id). Every row also carries FACTS_COLUMN, how many facts it aggregates.
 * `cached`: what the process holds (only jobs past its stableTo, and its pending ones, are read);
 * `stableTo`: the stable id now (at least cached.stableTo).
 */
export function tailSql(spec, ranges, req, p, cached, stableTo) {
    const measures = Object.entries(spec.measures);
    const only = { after: p.add(cached?.stableTo ?? 0), pending: p.add(cached?.pending ?? []) };
    const { from, id, orphan } = UNABSORBED[spec.facts.source](spec.view, p, only);
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
export function versionRowSql(spec, req, p, facts) {
    const blanks = [...req.groupDims.map((d) => `NULL::text AS ${d}`), ...(req.bucketGrain ? ['NULL::bigint AS t'] : [])];
    return `SELECT ${[
        `${VERSION_PART} AS part`,
        ...blanks,
        ...Object.keys(spec.measures).map((n, i) => (i === 0 ? `(${versionSql(p.add(spec.view))})::float8 AS ${n}` : `NULL::float8 AS ${n}`)),
        ...(facts ? [`NULL::float8 AS ${FACTS_COLUMN}`] : []),
    ].join(', ')}`;
}
//# sourceMappingURL=tail.js.map