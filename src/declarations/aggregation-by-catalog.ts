import { VIEWS } from '../db/tables.ts';
import { limitParam, pickFilters, querySchema } from './params.ts';
import { compareValues } from './order.ts';
import { RUN_JOB_FACTS, type Dim, type PartRow, type RollupSpec } from '../rollup/spec.ts';
import type { CompiledQuery } from './types.ts';

const FILTERS = ['tenant_id', 'source_app', 'environment', 'catalog_id', 'country'] as const satisfies readonly Dim[];

const params = querySchema(FILTERS, { limit: limitParam });

const STATUS = 'lower(j.status)';
const ELAPSED = '(j.timestamp_end - j.timestamp_start)';

const ROLLUP: RollupSpec = {
  view: VIEWS.aggregationByCatalog,
  dims: ['tenant_id', 'source_app', 'catalog_id', 'environment', 'country'],
  // Per catalog an hour or a minute holds about one row per job, so those grains are kept only for
  // the recent tier, where dashboards read; older windows take their partial days from the raw rows.
  // A catalog carries its tenant, pipeline and country, so level 0 holds the country at no cost in
  // rows; level 1 adds the environment, for its filter and for users constrained on it (every read
  // of carol's, conf/access.json), with recent hours so that her recent windows' edges stay under an hour.
  levels: [
    { id: 0, dims: ['tenant_id', 'source_app', 'catalog_id', 'country'], grains: ['day', 'hour', 'minute'], recent: ['hour', 'minute'], indexes: ['catalog_id'] },
    { id: 1, dims: ['tenant_id', 'source_app', 'environment', 'catalog_id', 'country'], grains: ['day', 'hour'], recent: ['hour'], indexes: ['catalog_id'] },
  ],
  facts: RUN_JOB_FACTS,
  measures: {
    job_count: { view: 'v.job_count', raw: '1', combine: 'sum' },
    succeeded_count: { view: 'v.succeeded_count', raw: `(${STATUS} = 'succeeded')::int`, combine: 'sum' },
    failed_count: { view: 'v.failed_count', raw: `(${STATUS} = 'failed')::int`, combine: 'sum' },
    elapsed_sum: { view: 'v.elapsed_sum', raw: `${ELAPSED}::numeric`, combine: 'sum', type: 'numeric' },
    elapsed_n: { view: 'v.elapsed_n', raw: `(${ELAPSED} IS NOT NULL)::int`, combine: 'sum' },
    elapsed_min: { view: 'v.elapsed_min', raw: ELAPSED, combine: 'min' },
    elapsed_max: { view: 'v.elapsed_max', raw: ELAPSED, combine: 'max' },
    last_job_at: { view: 'v.last_job_at', raw: 'j.timestamp_end', combine: 'max' },
  },
};

/** An answer row of one catalog's merged partials. */
function catalogRow(r: PartRow): Record<string, unknown> {
  const n = r.elapsed_n as number | null;
  return {
    catalog_id: r.catalog_id,
    job_count: r.job_count,
    succeeded_count: r.succeeded_count,
    failed_count: r.failed_count,
    success_rate: (r.succeeded_count as number) / (r.job_count as number),
    avg_elapsed_ms: n ? (r.elapsed_sum as number) / n : null,
    min_elapsed_ms: r.elapsed_min,
    max_elapsed_ms: r.elapsed_max,
    last_job_at: r.last_job_at,
  };
}

export const aggregationByCatalog: CompiledQuery<typeof params> = {
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
        compare: (a, b) => (b.job_count as number) - (a.job_count as number) || compareValues(a.catalog_id, b.catalog_id),
        limit: q.limit,
      },
      finalize: ({ rows, truncated }) => ({ rows: rows.map(catalogRow), truncated }),
      rowwise: { key: 'catalog', row: catalogRow },
    };
  },
};
