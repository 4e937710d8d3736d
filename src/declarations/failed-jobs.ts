import { VIEWS } from '../db/tables.ts';
import { groupByParam, limitParam, pickFilters, querySchema } from './params.ts';
import { byKeys } from './order.ts';
import { RUN_JOB_FACTS, type Dim, type PartRow, type RollupSpec } from '../rollup/spec.ts';
import type { BuildContext, CompiledQuery, QueryPlan } from './types.ts';

const DIMS = ['tenant_id', 'source_app', 'environment', 'catalog_id', 'country'] as const satisfies readonly Dim[];

const params = querySchema(DIMS, {
  group_by: groupByParam(DIMS, ['tenant_id', 'source_app']),
  limit: limitParam,
});

/** A job counts as failed whatever the case the gateway stored its status in. */
export const FAILED = "lower(j.status) = 'failed'";

const ROLLUP: RollupSpec = {
  view: VIEWS.failedJobs,
  dims: ['tenant_id', 'source_app', 'environment', 'catalog_id', 'country'],
  // Every combination of the five dimensions a request may group or filter by (and a constrained
  // user's tenant, pipeline and environment) has a level holding it; the router takes the one with
  // the fewest estimated rows (src/read/plan.ts). A pipeline belongs to a tenant (TP joint), and a
  // catalog carries its tenant, pipeline and country, so TPCK costs the rows of the catalogs alone.
  // A level whose hours are about one row per run or per job keeps them for the recent tier only:
  // even at 0.64 (TPEK) and 0.88 (TPECK) rows per job at 10M (docs/BENCHMARKS.md, issue 29) they
  // keep the edges of a user constrained on tenant and environment (carol in conf/access.json) under
  // an hour, where a read of a recent window would otherwise take today's partial day raw.
  levels: [
    // The minutes (recent tier only: about one row per run) keep the raw edges under a minute.
    { id: 0, dims: ['tenant_id', 'source_app'], grains: ['day', 'hour', 'minute'], recent: ['minute'] },
    // Per environment an hour holds about one row per run. Its hours were kept for the recent tier
    // only while every refresh recomputed history (migration 1764000004000); since maintenance merges
    // only what changed they cost storage, not refresh time, and they keep an older window's raw
    // edges under an hour instead of a day (the soak's 503s at 1M jobs, docs/BENCHMARKS.md).
    { id: 1, dims: ['tenant_id', 'source_app', 'environment'], grains: ['day', 'hour'] },
    { id: 2, dims: ['country'], grains: ['day', 'hour', 'minute'], recent: ['minute'] },
    { id: 3, dims: ['environment', 'country'], grains: ['day', 'hour'] },
    { id: 4, dims: ['tenant_id', 'source_app', 'country'], grains: ['day', 'hour'], recent: ['hour'] },
    { id: 5, dims: ['tenant_id', 'source_app', 'environment', 'country'], grains: ['day', 'hour'], recent: ['hour'] },
    { id: 6, dims: ['tenant_id', 'source_app', 'catalog_id', 'country'], grains: ['day', 'hour'], recent: ['hour'], indexes: ['catalog_id'] },
    { id: 7, dims: ['tenant_id', 'source_app', 'environment', 'catalog_id', 'country'], grains: ['day', 'hour'], recent: ['hour'], indexes: ['catalog_id'] },
  ],
  facts: RUN_JOB_FACTS,
  measures: {
    job_count: { view: 'v.job_count', raw: '1', combine: 'sum' },
    failed_count: { view: 'v.failed_count', raw: `(${FAILED})::int`, combine: 'sum' },
    last_failure_at: { view: 'v.last_failure_at', raw: `CASE WHEN ${FAILED} THEN j.timestamp_end END`, combine: 'max' },
  },
};

export const failedJobs: CompiledQuery<typeof params> = {
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
export function failureRatePlan<D extends Dim>(
  { params: q, window, access }: BuildContext<{ group_by: D[]; limit: number } & Partial<Record<D, string[] | undefined>>>,
  dims: readonly D[],
  extra: readonly string[],
): QueryPlan {
  const keys = q.group_by;
  const byKey = byKeys(keys);
  const row = (r: PartRow): Record<string, unknown> => {
    // Assigned one by one: spreading an Object.fromEntries() result was the hottest line under load.
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = r[k];
    out.failed_count = r.failed_count;
    out.job_count = r.job_count;
    out.failure_rate = (r.failed_count as number) / (r.job_count as number);
    for (const m of extra) out[m] = r[m];
    return out;
  };
  return {
    parts: { window, filters: pickFilters(q, dims), groupDims: keys, access },
    rank: {
      keep: (r) => (r.failed_count as number) > 0,
      compare: (a, b) => (b.failed_count as number) - (a.failed_count as number) || byKey(a, b),
      limit: q.limit,
    },
    finalize: ({ rows, truncated }) => ({ rows: rows.map(row), truncated }),
    rowwise: { key: JSON.stringify(['failure_rate', keys, extra]), row },
  };
}
