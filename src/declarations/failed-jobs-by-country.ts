import { FAILED, failureRatePlan } from './failed-jobs.ts';
import { groupByParam, limitParam, querySchema } from './params.ts';
import { RUN_JOB_FACTS, type Dim, type RollupSpec } from '../rollup/spec.ts';
import type { CompiledQuery } from './types.ts';

const DIMS = ['tenant_id', 'source_app', 'environment', 'country'] as const satisfies readonly Dim[];

const params = querySchema(DIMS, {
  group_by: groupByParam(DIMS, ['country']),
  limit: limitParam,
});

const ROLLUP: RollupSpec = {
  view: 'eventstats.mv_failed_jobs_by_country',
  dims: ['country', 'tenant_id', 'environment', 'source_app'],
  levels: [
    // The map of a dashboard: per country, with minutes for the recent tier (edges under a minute).
    { id: 0, dims: ['country'], grains: ['day', 'hour', 'minute'], recent: ['minute'] },
    // Per tenant, pipeline and environment (a pipeline belongs to a tenant: it adds about 4x the
    // rows of tenant and environment), so every grouping, filter and constrained user has a level.
    { id: 1, dims: ['country', 'tenant_id', 'source_app', 'environment'], grains: ['day', 'hour'], recent: ['hour'] },
  ],
  facts: RUN_JOB_FACTS,
  measures: {
    job_count: { view: 'v.job_count', raw: '1', combine: 'sum' },
    failed_count: { view: 'v.failed_count', raw: `(${FAILED})::int`, combine: 'sum' },
  },
};

/** Added along docs/ARCHITECTURE.md "Adding a compiled query": this file, one registry line, a generated migration, its oracle. */
export const failedJobsByCountry: CompiledQuery<typeof params> = {
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
