import { z } from 'zod';
import { pickFilters, querySchema } from "./params.js";
import { readingOf } from "../rollup/spec.js";
import { JOB_FACTS } from "./job-facts.js";
import { floorTo, GRAIN_MS } from "../rollup/window.js";
const FILTERS = ['tenant_id', 'source_app', 'environment', 'catalog_id', 'country'];
const STATUSES = ['succeeded', 'failed', 'killed', 'skipped'];
const params = querySchema(FILTERS, {
    bucket: z.enum(['hour', 'day'], { error: "must be 'hour' or 'day'" }).default('day'),
});
/** The jobs' shared view (src/declarations/job-facts.ts): a count per status, and the total. */
const ROLLUP = readingOf(JOB_FACTS, { ...Object.fromEntries(STATUSES.map((s) => [s, `${s}_count`])), total: 'job_count' });
export const jobStatusTrend = {
    name: 'job_status_trend',
    topic: 'public.cps.za.runs',
    description: 'Jobs per status per UTC hour or day, zero-filled from the bucket of the window start to the bucket of its end.',
    params,
    filters: FILTERS,
    columns: [
        { name: 'bucket_start', type: 'integer', description: 'start of the UTC hour or day (epoch ms)', epochMs: true },
        ...STATUSES.map((s) => ({ name: s, type: 'integer', description: `jobs with status ${s} (case-insensitive)` })),
        { name: 'total', type: 'integer', description: 'all jobs of the bucket, whatever their status' },
    ],
    rollup: ROLLUP,
    plan({ params: q, window, access }) {
        const g = GRAIN_MS[q.bucket];
        const measures = [...STATUSES, 'total'];
        return {
            parts: { window, filters: pickFilters(q, FILTERS), groupDims: [], access, bucketGrain: q.bucket },
            finalize({ rows: parts }) {
                const byBucket = new Map();
                for (const r of parts)
                    byBucket.set(r.t, r);
                const rows = [];
                for (let b = floorTo(window.start, g); b <= floorTo(window.end, g); b += g) {
                    const r = byBucket.get(b);
                    rows.push({ bucket_start: b, ...Object.fromEntries(measures.map((m) => [m, r?.[m] ?? 0])) });
                }
                return { rows, truncated: false };
            },
        };
    },
};
//# sourceMappingURL=job-status-trend.js.map