import { Params } from '../db/sql.ts';
import { VIEWS } from '../db/tables.ts';
import { DEFAULT_CRON, STATUS_CHANGE_CHANGE_KEY } from './change-keys.ts';
import { groupByParam, limitParam, pickFilters, querySchema } from './params.ts';
import { buildParts, STATUS_CHANGE_FACTS, type Dim, type RollupSpec } from './rollup.ts';
import type { CompiledQuery } from './types.ts';

const FILTERS = ['tenant_id', 'source_app', 'environment', 'country'] as const satisfies readonly Dim[];
const GROUPS = ['tenant_id', 'source_app', 'environment'] as const satisfies readonly Dim[];
export const STATUS_TYPES = ['WAITING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'KILLED'] as const;

const params = querySchema(FILTERS, {
  group_by: groupByParam(GROUPS, [], true),
  limit: limitParam,
});

export const ROLLUP: RollupSpec = {
  view: VIEWS.runStatusSummary,
  dims: ['tenant_id', 'source_app', 'environment', 'status_type'],
  levels: [
    { id: 0, dims: ['status_type'], grains: ['day', 'hour'] },
    { id: 1, dims: ['tenant_id', 'source_app', 'environment', 'status_type'], grains: ['day', 'hour'] },
  ],
  facts: STATUS_CHANGE_FACTS,
  measures: { job_count: { view: 'v.job_count', raw: '1' } },
};

export const runStatusSummary: CompiledQuery<typeof params> = {
  name: 'run_status_summary',
  topic: 'public.cps.za.status_change',
  description:
    'Distribution of status_type over jobs created in the window, optionally per group; every status appears with 0 where none.',
  params,
  filters: FILTERS,
  view: { name: VIEWS.runStatusSummary, changeKey: STATUS_CHANGE_CHANGE_KEY, cron: DEFAULT_CRON },
  columns: [
    { name: '<group_by keys>', type: 'string|null', description: 'one column per group_by dimension, in the requested order' },
    { name: 'status_type', type: 'string', description: `${STATUS_TYPES.join(', ')}, or UNKNOWN (null status, listed only when present)` },
    { name: 'job_count', type: 'integer', description: 'jobs of the group with this status' },
    { name: 'share', type: 'number|null', description: "job_count / the group's total (null when the group is empty)" },
  ],
  build({ params: q, window, access }) {
    const p = new Params();
    const keys = q.group_by;
    const parts = buildParts(
      ROLLUP,
      { window, filters: pickFilters(q, FILTERS), groupDims: [...keys, 'status_type'], access },
      p,
    );
    const k = (prefix: string) => keys.map((d) => `${prefix}${d}`);
    const sel = (prefix: string) => k(prefix).map((c) => `${c}, `).join('');
    const match = keys.map((d) => `a.${d} IS NOT DISTINCT FROM g.${d}`);
    const limit = p.add(q.limit);
    // With no group_by there is exactly one group, the whole window, even when it is empty.
    const groups = keys.length
      ? `SELECT DISTINCT ${k('').join(', ')} FROM agg ORDER BY ${k('').join(', ')} LIMIT ${limit} + 1`
      : 'SELECT 1 AS whole';
    const order = `array_position(ARRAY['${STATUS_TYPES.join("','")}','UNKNOWN'], grid.status_type)`;
    const text = `WITH parts AS (
${parts.sql}
), agg AS (
SELECT ${sel('')}coalesce(status_type, 'UNKNOWN') AS status_type, sum(job_count)::bigint AS job_count
  FROM parts
 GROUP BY ${[...k(''), "coalesce(status_type, 'UNKNOWN')"].join(', ')}
), all_groups AS (
${groups}
), groups AS (
SELECT *, count(*) OVER () > ${limit} AS truncated FROM all_groups${keys.length ? ` ORDER BY ${k('').join(', ')}` : ''} LIMIT ${limit}
), grid AS (
SELECT ${sel('g.')}s.status_type, g.truncated
  FROM groups g CROSS JOIN unnest(ARRAY['${STATUS_TYPES.join("','")}']) AS s(status_type)
UNION ALL
SELECT ${sel('g.')}'UNKNOWN', g.truncated
  FROM groups g
 WHERE EXISTS (SELECT 1 FROM agg a WHERE a.status_type = 'UNKNOWN'${match.map((m) => ` AND ${m}`).join('')})
)
SELECT ${sel('grid.')}grid.status_type,
       coalesce(a.job_count, 0)::bigint AS job_count,
       coalesce(a.job_count, 0)::float8 / nullif(sum(coalesce(a.job_count, 0)) OVER (PARTITION BY ${keys.length ? k('grid.').join(', ') : '1'}), 0)::float8 AS share,
       grid.truncated AS _truncated
  FROM grid
  LEFT JOIN agg a ON a.status_type = grid.status_type${keys.map((d) => ` AND a.${d} IS NOT DISTINCT FROM grid.${d}`).join('')}
 ORDER BY ${[...k('grid.'), order].join(', ')}`;
    return { sql: { text, values: p.values }, limit: undefined };
  },
  shape: (row) => row,
};
