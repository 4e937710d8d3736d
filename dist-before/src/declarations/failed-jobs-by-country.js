import { failureRatePlan } from "./failed-jobs.js";
import { groupByParam, limitParam, querySchema } from "./params.js";
import { readingOf } from "../rollup/spec.js";
import { JOB_FACTS } from "./job-facts.js";
const DIMS = ['tenant_id', 'source_app', 'environment', 'country'];
const params = querySchema(DIMS, {
    group_by: groupByParam(DIMS, ['country']),
    limit: limitParam,
});
/** The jobs' shared view (src/declarations/job-facts.ts), read for the failure counts. */
const ROLLUP = readingOf(JOB_FACTS, { job_count: 'job_count', failed_count: 'failed_count' });
/** Added along docs/ARCHITECTURE.md "Adding a compiled query": this file, one registry line, a generated migration, its oracle. */
export const failedJobsByCountry = {
    name: 'failed_jobs_by_country',
    topic: 'public.cps.za.runs',
    description: 'Failed jobs per country in the window (jobs without a country count under null), with the failure rate of each group.',
    params,
    filters: DIMS,
    columns: [
        { name: '<group_by keys>', type: 'string|null', description: 'one column per group_by dimension (country by default), in the requested order' },
        { name: 'failed_count', type: 'integer', description: 'jobs with status failed (case-insensitive)' },
        { name: 'job_count', type: 'integer', description: 'all jobs of the group' },
        { name: 'failure_rate', type: 'number', description: 'failed_count / job_count' },
    ],
    rollup: ROLLUP,
    plan: (ctx) => failureRatePlan(ctx, DIMS, []),
};
//# sourceMappingURL=failed-jobs-by-country.js.map