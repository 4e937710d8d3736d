import { z } from 'zod';
import { VIEWS } from '../db/tables.ts';
import { pickFilters, querySchema } from './params.ts';
import { RUN_JOB_FACTS, type Dim, type RollupSpec } from '../rollup/spec.ts';
import type { CompiledQuery } from './types.ts';
import { floorTo, GRAIN_MS } from '../rollup/window.ts';

const FILTERS = ['tenant_id', 'source_app', 'environment', 'catalog_id', 'country'] as const satisfies readonly Dim[];
const STATUSES = ['succeeded', 'failed', 'killed', 'skipped'] as const;

const params = querySchema(FILTERS, {
  bucket: z.enum(['hour', 'day'], { error: "must be 'hour' or 'day'" }).default('day'),
});

const ROLLUP: RollupSpec = {
  view: VIEWS.jobStatusTrend,
  dims: ['tenant_id', 'source_app', 'environment', 'catalog_id', 'country'],
  // Every filter combination (and a constrained user's fields) has a level; the router takes the one
  // with the fewest estimated rows (src/read/plan.ts). Hour buckets need hours: the levels whose
  // hours are about one row per run or job keep them for the recent tier only.
  levels: [
    // A minute grain costs ~1,440 rows a day here and shrinks the raw edges to under a minute.
    { id: 0, dims: [], grains: ['day', 'hour', 'minute'] },
    { id: 1, dims: ['tenant_id', 'source_app', 'environment'], grains: ['day', 'hour'] },
    { id: 2, dims: ['country'], grains: ['day', 'hour', 'minute'], recent: ['minute'] },
    { id: 3, dims: ['environment', 'country'], grains: ['day', 'hour'] },
    { id: 4, dims: ['tenant_id', 'source_app', 'environment', 'country'], grains: ['day', 'hour'], recent: ['hour'] },
    { id: 5, dims: ['tenant_id', 'source_app', 'catalog_id', 'country'], grains: ['day', 'hour'], recent: ['hour'], indexes: ['catalog_id'] },
    { id: 6, dims: ['tenant_id', 'source_app', 'environment', 'catalog_id', 'country'], grains: ['day', 'hour'], recent: ['hour'], indexes: ['catalog_id'] },
  ],
  facts: RUN_JOB_FACTS,
  measures: {
    ...Object.fromEntries(STATUSES.map((s) => [s, { view: `v.${s}`, raw: `(lower(j.status) = '${s}')::int`, combine: 'sum' } as const])),
    total: { view: 'v.total', raw: '1', combine: 'sum' },
  },
};

export const jobStatusTrend: CompiledQuery<typeof params> = {
  name: 'job_status_trend',
  topic: 'public.cps.za.runs',
  description: 'Jobs per status per UTC hour or day, zero-filled from the bucket of the window start to the bucket of its end.',
  params,
  filters: FILTERS,
  columns: [
    { name: 'bucket_start', type: 'integer', description: 'start of the UTC hour or day (epoch ms)', epochMs: true },
    ...STATUSES.map((s) => ({ name: s, type: 'integer' as const, description: `jobs with status ${s} (case-insensitive)` })),
    { name: 'total', type: 'integer', description: 'all jobs of the bucket, whatever their status' },
  ],
  rollup: ROLLUP,
  plan({ params: q, window, access }) {
    const g = GRAIN_MS[q.bucket];
    const measures = [...STATUSES, 'total'] as const;
    return {
      parts: { window, filters: pickFilters(q, FILTERS), groupDims: [], access, bucketGrain: q.bucket },
      finalize({ rows: parts }) {
        const byBucket = new Map<number, Record<string, unknown>>();
        for (const r of parts) byBucket.set(r.t as number, r);
        const rows: Record<string, unknown>[] = [];
        for (let b = floorTo(window.start, g); b <= floorTo(window.end, g); b += g) {
          const r = byBucket.get(b);
          rows.push({ bucket_start: b, ...Object.fromEntries(measures.map((m) => [m, (r?.[m] as number | null | undefined) ?? 0])) });
        }
        return { rows, truncated: false };
      },
    };
  },
};
