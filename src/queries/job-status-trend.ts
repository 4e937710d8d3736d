import { z } from 'zod';
import { Params } from '../db/sql.ts';
import { VIEWS } from '../db/tables.ts';
import { DEFAULT_CRON, RUN_JOBS_CHANGE_KEY } from './change-keys.ts';
import { pickFilters, querySchema } from './params.ts';
import { buildParts, RUN_JOB_FACTS, type Dim, type RollupSpec } from './rollup.ts';
import type { CompiledQuery } from './types.ts';
import { GRAIN_MS } from './window.ts';

const FILTERS = ['tenant_id', 'source_app', 'environment', 'catalog_id', 'country'] as const satisfies readonly Dim[];
const STATUSES = ['succeeded', 'failed', 'killed', 'skipped'] as const;

const params = querySchema(FILTERS, {
  bucket: z.enum(['hour', 'day'], { error: "must be 'hour' or 'day'" }).default('day'),
});

export const ROLLUP: RollupSpec = {
  view: VIEWS.jobStatusTrend,
  dims: ['tenant_id', 'source_app', 'environment'],
  levels: [
    // A minute grain costs ~1,440 rows a day here and shrinks the raw edges to under a minute.
    { id: 0, dims: [], grains: ['day', 'hour', 'minute'] },
    { id: 1, dims: ['tenant_id', 'source_app', 'environment'], grains: ['day', 'hour'] },
  ],
  facts: RUN_JOB_FACTS,
  measures: {
    ...Object.fromEntries(STATUSES.map((s) => [s, { view: `v.${s}`, raw: `(lower(j.status) = '${s}')::int` }])),
    total: { view: 'v.total', raw: '1' },
  },
};

const floorTo = (t: number, g: number) => t - (((t % g) + g) % g);

export const jobStatusTrend: CompiledQuery<typeof params> = {
  name: 'job_status_trend',
  topic: 'public.cps.za.runs',
  description: 'Jobs per status per UTC hour or day, zero-filled from the bucket of the window start to the bucket of its end.',
  params,
  filters: FILTERS,
  view: { name: VIEWS.jobStatusTrend, changeKey: RUN_JOBS_CHANGE_KEY, cron: DEFAULT_CRON },
  columns: [
    { name: 'bucket_start', type: 'integer', description: 'start of the UTC hour or day (epoch ms)' },
    ...STATUSES.map((s) => ({ name: s, type: 'integer' as const, description: `jobs with status ${s} (case-insensitive)` })),
    { name: 'total', type: 'integer', description: 'all jobs of the bucket, whatever their status' },
  ],
  build({ params: q, window, access }) {
    const p = new Params();
    const g = GRAIN_MS[q.bucket];
    const parts = buildParts(ROLLUP, { window, filters: pickFilters(q, FILTERS), groupDims: [], access, maxGrain: q.bucket }, p);
    const gp = p.add(g);
    const sums = [...STATUSES, 'total'].map((m) => `sum(${m})::bigint AS ${m}`).join(', ');
    const text = `WITH parts AS (
${parts.sql}
), agg AS (
SELECT t - ((t % ${gp}::bigint) + ${gp}::bigint) % ${gp}::bigint AS b, ${sums}
  FROM parts
 GROUP BY 1
)
SELECT s.b AS bucket_start, ${[...STATUSES, 'total'].map((m) => `coalesce(a.${m}, 0)::bigint AS ${m}`).join(', ')}
  FROM generate_series(${p.add(floorTo(window.start, g))}::bigint, ${p.add(floorTo(window.end, g))}::bigint, ${gp}::bigint) AS s(b)
  LEFT JOIN agg a ON a.b = s.b
 ORDER BY s.b`;
    return { sql: { text, values: p.values }, limit: undefined };
  },
  shape: (row) => row,
};
