import { Params } from '../db/sql.ts';
import { VIEWS } from '../db/tables.ts';
import { DEFAULT_CRON, RUN_JOBS_CHANGE_KEY } from './change-keys.ts';
import { limitParam, pickFilters, querySchema } from './params.ts';
import { buildParts, RUN_JOB_FACTS, type Dim, type RollupSpec } from './rollup.ts';
import type { CompiledQuery } from './types.ts';

const FILTERS = ['tenant_id', 'source_app', 'environment', 'catalog_id', 'country'] as const satisfies readonly Dim[];

const params = querySchema(FILTERS, { limit: limitParam });

const STATUS = 'lower(j.status)';
const ELAPSED = '(j.timestamp_end - j.timestamp_start)';

export const ROLLUP: RollupSpec = {
  view: VIEWS.aggregationByCatalog,
  dims: ['tenant_id', 'source_app', 'catalog_id'],
  levels: [{ id: 0, dims: ['tenant_id', 'source_app', 'catalog_id'], grains: ['day'] }],
  facts: RUN_JOB_FACTS,
  measures: {
    job_count: { view: 'v.job_count', raw: '1' },
    succeeded_count: { view: 'v.succeeded_count', raw: `(${STATUS} = 'succeeded')::int` },
    failed_count: { view: 'v.failed_count', raw: `(${STATUS} = 'failed')::int` },
    elapsed_sum: { view: 'v.elapsed_sum', raw: `${ELAPSED}::numeric` },
    elapsed_n: { view: 'v.elapsed_n', raw: `(${ELAPSED} IS NOT NULL)::int` },
    elapsed_min: { view: 'v.elapsed_min', raw: ELAPSED },
    elapsed_max: { view: 'v.elapsed_max', raw: ELAPSED },
    last_job_at: { view: 'v.last_job_at', raw: 'j.timestamp_end' },
  },
};

export const aggregationByCatalog: CompiledQuery<typeof params> = {
  name: 'aggregation_by_catalog',
  topic: 'public.cps.za.runs',
  description: 'Per data catalog: job count, success rate and elapsed-time statistics in the window.',
  params,
  filters: FILTERS,
  view: { name: VIEWS.aggregationByCatalog, changeKey: RUN_JOBS_CHANGE_KEY, cron: DEFAULT_CRON },
  columns: [
    { name: 'catalog_id', type: 'string', description: 'the data catalog' },
    { name: 'job_count', type: 'integer', description: 'all jobs of the catalog' },
    { name: 'succeeded_count', type: 'integer', description: 'jobs with status succeeded (case-insensitive)' },
    { name: 'failed_count', type: 'integer', description: 'jobs with status failed (case-insensitive)' },
    { name: 'success_rate', type: 'number', description: 'succeeded_count / job_count' },
    { name: 'avg_elapsed_ms', type: 'number|null', description: 'mean of timestamp_end - timestamp_start over jobs with both' },
    { name: 'min_elapsed_ms', type: 'integer|null', description: 'shortest elapsed time' },
    { name: 'max_elapsed_ms', type: 'integer|null', description: 'longest elapsed time' },
    { name: 'last_job_at', type: 'integer|null', description: 'latest job timestamp_end (epoch ms)' },
  ],
  build({ params: q, window, access }) {
    const p = new Params();
    const parts = buildParts(ROLLUP, { window, filters: pickFilters(q, FILTERS), groupDims: ['catalog_id'], access }, p);
    const text = `WITH parts AS (
${parts.sql}
)
SELECT catalog_id,
       sum(job_count)::bigint AS job_count,
       sum(succeeded_count)::bigint AS succeeded_count,
       sum(failed_count)::bigint AS failed_count,
       sum(succeeded_count)::float8 / sum(job_count)::float8 AS success_rate,
       (sum(elapsed_sum) / nullif(sum(elapsed_n), 0))::float8 AS avg_elapsed_ms,
       min(elapsed_min) AS min_elapsed_ms,
       max(elapsed_max) AS max_elapsed_ms,
       max(last_job_at) AS last_job_at
  FROM parts
 GROUP BY catalog_id
 ORDER BY job_count DESC, catalog_id ASC
 LIMIT ${p.add(q.limit + 1)}`;
    return { sql: { text, values: p.values }, limit: q.limit };
  },
  shape: (row) => row,
};
