import { STATUS_TYPES, VIEWS } from '../db/tables.ts';
import { groupByParam, limitParam, pickFilters, querySchema } from './params.ts';
import { byKeys, firstN } from './order.ts';
import { STATUS_CHANGE_FACTS, type Dim, type PartRow, type RollupSpec } from '../rollup/spec.ts';
import type { CompiledQuery } from './types.ts';

const FILTERS = ['tenant_id', 'source_app', 'environment', 'country'] as const satisfies readonly Dim[];
const GROUPS = ['tenant_id', 'source_app', 'environment'] as const satisfies readonly Dim[];

const params = querySchema(FILTERS, {
  group_by: groupByParam(GROUPS, [], true),
  limit: limitParam,
});

const ROLLUP: RollupSpec = {
  view: VIEWS.runStatusSummary,
  dims: ['tenant_id', 'source_app', 'environment', 'status_type', 'country'],
  levels: [
    { id: 0, dims: ['status_type'], grains: ['day', 'hour', 'minute'], recent: ['minute'] },
    // An hour per tenant, pipeline, environment and status holds about one row per source row. Kept
    // for all history since maintenance merges only what changed (recent tier only before: migration
    // 1764000004100), so an older window's raw edges stay under an hour.
    { id: 1, dims: ['tenant_id', 'source_app', 'environment', 'status_type'], grains: ['day', 'hour'] },
    // The country filter, alone or with the environment, and for users constrained on any field.
    // Hours for all history at every level, though at the widest they are about one row per status
    // row: a status upsert's cycle recomputes the buckets its created_at falls in (issue 25), and
    // recomputing an hour reads that hour's rows, where a day would read every row of the day
    // (1.9 s of a 3.7 s cycle at 1M when this level kept days alone; docs/BENCHMARKS.md, issue 29).
    { id: 2, dims: ['country', 'status_type'], grains: ['day', 'hour', 'minute'], recent: ['minute'] },
    { id: 3, dims: ['environment', 'country', 'status_type'], grains: ['day', 'hour'] },
    // Every dimension: the level a status cycle recomputes (src/maintenance/sources.ts), the others
    // corrected by its differences. Its minutes (recent tier only, about one row per status row) make
    // a recent upsert's recompute read that minute's rows instead of its hour's (about 900 at 10M jobs).
    { id: 4, dims: ['tenant_id', 'source_app', 'environment', 'country', 'status_type'], grains: ['day', 'hour', 'minute'], recent: ['minute'] },
  ],
  facts: STATUS_CHANGE_FACTS,
  measures: { job_count: { view: 'v.job_count', raw: '1', combine: 'sum' } },
};

export const runStatusSummary: CompiledQuery<typeof params> = {
  name: 'run_status_summary',
  topic: 'public.cps.za.status_change',
  description:
    'Distribution of status_type over jobs created in the window, optionally per group; every status appears with 0 where none.',
  params,
  filters: FILTERS,
  columns: [
    { name: '<group_by keys>', type: 'string|null', description: 'one column per group_by dimension, in the requested order' },
    { name: 'status_type', type: 'string', description: `${STATUS_TYPES.join(', ')}, or UNKNOWN (null status, listed only when present)` },
    { name: 'job_count', type: 'integer', description: 'jobs of the group with this status' },
    { name: 'share', type: 'number|null', description: "job_count / the group's total (null when the group is empty)" },
  ],
  rollup: ROLLUP,
  plan({ params: q, window, access }) {
    const keys = q.group_by;
    const groupOf = (r: PartRow) => JSON.stringify(keys.map((k) => r[k]));
    return {
      parts: { window, filters: pickFilters(q, FILTERS), groupDims: [...keys, 'status_type'], access },
      finalize({ rows: parts }) {
        // Per group, the count of each status; a NULL status counts as UNKNOWN, others outside the list are left out.
        const groups = new Map<string, { group: Record<string, unknown>; counts: Map<string, number> }>();
        for (const r of parts) {
          const id = groupOf(r);
          const g = groups.get(id) ?? { group: Object.fromEntries(keys.map((k) => [k, r[k]])), counts: new Map<string, number>() };
          groups.set(id, g);
          const status = (r.status_type as string | null) ?? 'UNKNOWN';
          g.counts.set(status, (g.counts.get(status) ?? 0) + (r.job_count as number));
        }
        // With no group_by there is exactly one group, the whole window, even when it is empty.
        if (!keys.length && !groups.size) groups.set('[]', { group: {}, counts: new Map() });
        const page = firstN([...groups.values()], (a, b) => byKeys(keys)(a.group, b.group), q.limit);
        const rows = page.rows.flatMap(({ group, counts }) => {
          const statuses = counts.has('UNKNOWN') ? [...STATUS_TYPES, 'UNKNOWN'] : STATUS_TYPES;
          const total = statuses.reduce((n, s) => n + (counts.get(s) ?? 0), 0);
          return statuses.map((s) => {
            const n = counts.get(s) ?? 0;
            return { ...group, status_type: s, job_count: n, share: total ? n / total : null };
          });
        });
        return { rows, truncated: page.truncated };
      },
    };
  },
};
