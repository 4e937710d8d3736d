import { groupByParam, limitParam, pickFilters, querySchema } from "./params.js";
import { byKeys } from "./order.js";
import { readingOf } from "../rollup/spec.js";
import { JOB_FACTS } from "./job-facts.js";
const DIMS = ['tenant_id', 'source_app', 'environment', 'catalog_id', 'country'];
const params = querySchema(DIMS, {
    group_by: groupByParam(DIMS, ['tenant_id', 'source_app']),
    limit: limitParam,
});
/** The jobs' shared view (src/declarations/job-facts.ts), read for the failure counts. */
const ROLLUP = readingOf(JOB_FACTS, { job_count: 'job_count', failed_count: 'failed_count', last_failure_at: 'last_failure_at' });
export const failedJobs = {
    name: 'failed_jobs',
    topic: 'public.cps.za.runs',
    description: 'Failed jobs in the window, grouped (by tenant and pipeline by default), with the failure rate of each group.',
    params,
    filters: DIMS,
    columns: [
        { name: '<group_by keys>', type: 'string|null', description: 'one column per group_by dimension, in the requested order' },
        { name: 'failed_count', type: 'integer', description: 'jobs with status failed (case-insensitive)' },
        { name: 'job_count', type: 'integer', description: 'all jobs of the group' },
        { name: 'failure_rate', type: 'number', description: 'failed_count / job_count' },
        { name: 'last_failure_at', type: 'integer|null', description: 'latest timestamp_end (epoch ms) among the failed jobs', epochMs: true },
    ],
    rollup: ROLLUP,
    plan: (ctx) => failureRatePlan(ctx, DIMS, ['last_failure_at']),
};
/**
 * The plan of a failure-rate query (failed_jobs, failed_jobs_by_country): one row per group of the
 * requested keys that has a failed job, most failures first; each row holds the keys, failed_count,
 * job_count, failure_rate, then the `extra` measures as merged.
 */
export function failureRatePlan({ params: q, window, access }, dims, extra) {
    const keys = q.group_by;
    const byKey = byKeys(keys);
    const row = (r) => {
        // Assigned one by one: spreading an Object.fromEntries() result was the hottest line under load.
        const out = {};
        for (const k of keys)
            out[k] = r[k];
        out.failed_count = r.failed_count;
        out.job_count = r.job_count;
        out.failure_rate = r.failed_count / r.job_count;
        for (const m of extra)
            out[m] = r[m];
        return out;
    };
    return {
        parts: { window, filters: pickFilters(q, dims), groupDims: keys, access },
        rank: {
            keep: (r) => r.failed_count > 0,
            compare: (a, b) => b.failed_count - a.failed_count || byKey(a, b),
            limit: q.limit,
        },
        finalize: ({ rows, truncated }) => ({ rows: rows.map(row), truncated }),
        rowwise: { key: JSON.stringify(['failure_rate', keys, extra]), row },
    };
}
//# sourceMappingURL=failed-jobs.js.map