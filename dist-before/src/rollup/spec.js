import { TABLES } from "../db/tables.js";
/** The declaration of the view a spec reads: what is stored, maintained and migrated. */
export function storedSpec(spec) {
    return spec.stored ?? spec;
}
/**
 * A query's reading of a shared view: the view's levels, dimensions and facts, and the measures the
 * query names, each taken from a stored column (`{ total: 'job_count' }` reads job_count as total).
 * Several queries over the same facts then store each level once (issue 29).
 */
export function readingOf(stored, columns) {
    const measures = Object.fromEntries(Object.entries(columns).map(([name, column]) => {
        const m = stored.measures[column];
        if (!m)
            throw new Error(`${stored.view} stores no measure ${column}`);
        return [name, m];
    }));
    return { ...stored, measures, stored };
}
/** Every level with a recent tier has it from fine_from on (the maintenance row; src/maintenance/cycle.ts). */
export function coverageOf(spec, fineFrom) {
    const out = new Map();
    if (fineFrom === null)
        return out;
    for (const l of spec.levels)
        if (l.recent?.length)
            out.set(l.id, fineFrom);
    return out;
}
/** The measure that counts facts (raw '1', summed): a signed source's row whose count reaches 0 holds no fact any more, and a read estimates facts with it (src/read/plan.ts). */
export function countMeasure(spec) {
    const found = Object.entries(spec.measures).find(([, m]) => m.raw === '1' && m.combine === 'sum');
    if (!found)
        throw new Error(`${spec.view}: every query needs a count measure (raw '1', combine sum)`);
    return found[0];
}
/** The base-table expression of a dimension (its fact expression). */
export function rawDim(spec, dim) {
    const expr = spec.facts.dims[dim];
    if (!expr)
        throw new Error(`dimension ${dim} has no fact expression`);
    return expr;
}
/** The jobs of the runs topic: a job is in the window when its run's timestamp_start is. */
export const RUN_JOB_FACTS = {
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
function pgTimestamp(ms) {
    return new Date(ms).toISOString().replace(/^\+0*/, '');
}
/** Rows of the status-change table: in the window when created_at is (compared at ms precision). */
export const STATUS_CHANGE_FACTS = {
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
//# sourceMappingURL=spec.js.map