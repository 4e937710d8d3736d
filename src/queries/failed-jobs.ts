import { Params } from '../db/sql.ts';
import { VIEWS } from '../db/tables.ts';
import { DEFAULT_CRON, RUN_JOBS_CHANGE_KEY } from './change-keys.ts';
import { groupByParam, limitParam, pickFilters, querySchema } from './params.ts';
import { buildParts, RUN_JOB_FACTS, type Dim, type RollupSpec } from './rollup.ts';
import type { CompiledQuery } from './types.ts';

const DIMS = ['tenant_id', 'source_app', 'environment', 'catalog_id', 'country'] as const satisfies readonly Dim[];

const params = querySchema(DIMS, {
  group_by: groupByParam(DIMS, ['tenant_id', 'source_app']),
  limit: limitParam,
});

const FAILED = "lower(j.status) = 'failed'";

export const ROLLUP: RollupSpec = {
  view: VIEWS.failedJobs,
  dims: ['tenant_id', 'source_app', 'environment'],
  levels: [
    { id: 0, dims: ['tenant_id', 'source_app'], grains: ['day', 'hour'] },
    { id: 1, dims: ['tenant_id', 'source_app', 'environment'], grains: ['day', 'hour'] },
  ],
  facts: RUN_JOB_FACTS,
  measures: {
    job_count: { view: 'v.job_count', raw: '1' },
    failed_count: { view: 'v.failed_count', raw: `(${FAILED})::int` },
    last_failure_at: { view: 'v.last_failure_at', raw: `CASE WHEN ${FAILED} THEN j.timestamp_end END` },
  },
};

export const failedJobs: CompiledQuery<typeof params> = {
  name: 'failed_jobs',
  topic: 'public.cps.za.runs',
  description: 'Failed jobs in the window, grouped (by tenant and pipeline by default), with the failure rate of each group.',
  params,
  filters: DIMS,
  view: { name: VIEWS.failedJobs, changeKey: RUN_JOBS_CHANGE_KEY, cron: DEFAULT_CRON },
  columns: [
    { name: '<group_by keys>', type: 'string|null', description: 'one column per group_by dimension, in the requested order' },
    { name: 'failed_count', type: 'integer', description: 'jobs with status failed (case-insensitive)' },
    { name: 'job_count', type: 'integer', description: 'all jobs of the group' },
    { name: 'failure_rate', type: 'number', description: 'failed_count / job_count' },
    { name: 'last_failure_at', type: 'integer|null', description: 'latest timestamp_end (epoch ms) among the failed jobs' },
  ],
  build({ params: q, window, access }) {
    const p = new Params();
    const keys = q.group_by;
    const parts = buildParts(ROLLUP, { window, filters: pickFilters(q, DIMS), groupDims: keys, access }, p);
    const keyList = keys.join(', ');
    const text = `WITH parts AS (
${parts.sql}
)
SELECT ${keyList},
       sum(failed_count)::bigint AS failed_count,
       sum(job_count)::bigint AS job_count,
       sum(failed_count)::float8 / sum(job_count)::float8 AS failure_rate,
       max(last_failure_at) AS last_failure_at
  FROM parts
 GROUP BY ${keyList}
HAVING sum(failed_count) > 0
 ORDER BY failed_count DESC, ${keys.map((k) => `${k} ASC`).join(', ')}
 LIMIT ${p.add(q.limit + 1)}`;
    return { sql: { text, values: p.values }, limit: q.limit };
  },
  shape: (row) => row,
};
