import { limitParam, pickFilters, querySchema } from "./params.js";
import { compareValues } from "./order.js";
import { readingOf } from "../rollup/spec.js";
import { JOB_FACTS } from "./job-facts.js";
const FILTERS = ['tenant_id', 'source_app', 'environment', 'catalog_id', 'country'];
const params = querySchema(FILTERS, { limit: limitParam });
/** The jobs' shared view (src/declarations/job-facts.ts), read for the counts and elapsed times. */
const ROLLUP = readingOf(JOB_FACTS, Object.fromEntries(['job_count', 'succeeded_count', 'failed_count', 'elapsed_sum', 'elapsed_n', 'elapsed_min', 'elapsed_max', 'last_job_at'].map((m) => [m, m])));
/** An answer row of one catalog's merged partials. */
function catalogRow(r) {
    const n = r.elapsed_n;
    return {
        catalog_id: r.catalog_id,
        job_count: r.job_count,
        succeeded_count: r.succeeded_count,
        failed_count: r.failed_count,
        success_rate: r.succeeded_count / r.job_count,
        avg_elapsed_ms: n ? r.elapsed_sum / n : null,
        min_elapsed_ms: r.elapsed_min,
        max_elapsed_ms: r.elapsed_max,
        last_job_at: r.last_job_at,
    };
}
export const aggregationByCatalog = {
    name: 'aggregation_by_catalog',
    topic: 'public.cps.za.runs',
    description: 'Per data catalog: job count, success rate and elapsed-time statistics in the window.',
    params,
    filters: FILTERS,
    columns: [
        { name: 'catalog_id', type: 'string', description: 'the data catalog' },
        { name: 'job_count', type: 'integer', description: 'all jobs of the catalog' },
        { name: 'succeeded_count', type: 'integer', description: 'jobs with status succeeded (case-insensitive)' },
        { name: 'failed_count', type: 'integer', description: 'jobs with status failed (case-insensitive)' },
        { name: 'success_rate', type: 'number', description: 'succeeded_count / job_count' },
        { name: 'avg_elapsed_ms', type: 'number|null', description: 'mean of timestamp_end - timestamp_start over jobs with both' },
        { name: 'min_elapsed_ms', type: 'integer|null', description: 'shortest elapsed time' },
        { name: 'max_elapsed_ms', type: 'integer|null', description: 'longest elapsed time' },
        { name: 'last_job_at', type: 'integer|null', description: 'latest job timestamp_end (epoch ms)', epochMs: true },
    ],
    rollup: ROLLUP,
    plan({ params: q, window, access }) {
        return {
            parts: { window, filters: pickFilters(q, FILTERS), groupDims: ['catalog_id'], access },
            rank: {
                compare: (a, b) => b.job_count - a.job_count || compareValues(a.catalog_id, b.catalog_id),
                limit: q.limit,
            },
            finalize: ({ rows, truncated }) => ({ rows: rows.map(catalogRow), truncated }),
            rowwise: { key: 'catalog', row: catalogRow },
        };
    },
};
//# sourceMappingURL=aggregation-by-catalog.js.map