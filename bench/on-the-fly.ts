/**
 * What each compiled query replaces: the same aggregation computed on the fly over the base tables,
 * written straight from the definitions (as the exactness tests' oracle is), never through the
 * rollup engine. The harness times these and checks that the API answered exactly the same rows.
 */
import type { SqlQuery } from '../src/db/sql.ts';
import { TABLES } from '../src/db/tables.ts';
import type { TimeWindow } from '../src/queries/window.ts';

const RUN_COL: Readonly<Record<string, string>> = {
  tenant_id: 'r.tenant_id',
  source_app: 'r.source_app',
  environment: 'r.environment',
  catalog_id: 'j.catalog_id',
  country: 'j.country',
};
const JOINED = `${TABLES.runs} r JOIN ${TABLES.runsJobs} j ON j.event_id = r.event_id`;
const STATUSES = ['WAITING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'KILLED', 'UNKNOWN'];

/** The parameters the API applied (its defaults filled in), as returned in the response's `params`. */
export interface AppliedParams {
  readonly group_by?: readonly string[];
  readonly limit?: number;
  readonly bucket?: 'hour' | 'day';
}

function columns(keys: readonly string[], map: Readonly<Record<string, string>>): string {
  return keys.map((k) => {
    const col = map[k];
    // Keys come from the API's own validated answer, but the SQL text must never take a name blindly.
    if (col === undefined) throw new Error(`no on-the-fly column for group_by key '${k}'`);
    return `${col} AS ${k}`;
  }).join(', ');
}

const FAILED = "lower(j.status) = 'failed'";

const builders: Readonly<Record<string, (w: TimeWindow, p: AppliedParams) => SqlQuery>> = {
  failed_jobs: (w, p) => {
    const keys = p.group_by ?? [];
    const by = keys.map((_, i) => String(i + 1)).join(', ');
    return {
      text: `SELECT ${columns(keys, RUN_COL)},
                    (count(*) FILTER (WHERE ${FAILED}))::int AS failed_count, count(*)::int AS job_count,
                    (count(*) FILTER (WHERE ${FAILED}))::float8 / count(*) AS failure_rate,
                    (max(j.timestamp_end) FILTER (WHERE ${FAILED}))::float8 AS last_failure_at
               FROM ${JOINED}
              WHERE r.timestamp_start >= $1 AND r.timestamp_start <= $2
              GROUP BY ${by}
             HAVING count(*) FILTER (WHERE ${FAILED}) > 0
              ORDER BY failed_count DESC, ${by} LIMIT $3`,
      values: [w.start, w.end, p.limit],
    };
  },
  aggregation_by_catalog: (w, p) => ({
    text: `SELECT j.catalog_id, count(*)::int AS job_count,
                  (count(*) FILTER (WHERE lower(j.status) = 'succeeded'))::int AS succeeded_count,
                  (count(*) FILTER (WHERE ${FAILED}))::int AS failed_count,
                  (count(*) FILTER (WHERE lower(j.status) = 'succeeded'))::float8 / count(*) AS success_rate,
                  avg(j.timestamp_end - j.timestamp_start)::float8 AS avg_elapsed_ms,
                  min(j.timestamp_end - j.timestamp_start)::float8 AS min_elapsed_ms,
                  max(j.timestamp_end - j.timestamp_start)::float8 AS max_elapsed_ms,
                  max(j.timestamp_end)::float8 AS last_job_at
             FROM ${JOINED}
            WHERE r.timestamp_start BETWEEN $1 AND $2
            GROUP BY 1 ORDER BY job_count DESC, 1 LIMIT $3`,
    values: [w.start, w.end, p.limit],
  }),
  job_status_trend: (w, p) => ({
    text: `WITH series AS (
             SELECT generate_series(floor($1::numeric / $3)::bigint * $3, floor($2::numeric / $3)::bigint * $3, $3::bigint) AS b
           ), facts AS (
             SELECT floor(r.timestamp_start::numeric / $3)::bigint * $3 AS b, lower(j.status) AS st
               FROM ${JOINED}
              WHERE r.timestamp_start BETWEEN $1 AND $2
           )
           SELECT s.b::float8 AS bucket_start,
                  count(f.st) FILTER (WHERE f.st = 'succeeded')::int AS succeeded,
                  count(f.st) FILTER (WHERE f.st = 'failed')::int AS failed,
                  count(f.st) FILTER (WHERE f.st = 'killed')::int AS killed,
                  count(f.st) FILTER (WHERE f.st = 'skipped')::int AS skipped,
                  count(f.st)::int AS total
             FROM series s LEFT JOIN facts f ON f.b = s.b GROUP BY s.b ORDER BY s.b`,
    values: [w.start, w.end, p.bucket === 'hour' ? 3_600_000 : 86_400_000],
  }),
  run_status_summary: (w, p) => {
    const keys = p.group_by ?? [];
    const plain = Object.fromEntries(['tenant_id', 'source_app', 'environment'].map((k) => [k, k]));
    columns(keys, plain); // validates the keys
    const list = keys.join(', ');
    const gk = keys.length ? `${list}, ` : '';
    const array = `ARRAY[${STATUSES.map((s) => `'${s}'`).join(',')}]`;
    return {
      // created_at is compared at millisecond precision: [start, end] inclusive is [start, end + 1 ms).
      text: `WITH facts AS (
               SELECT ${gk}coalesce(status_type, 'UNKNOWN') AS status_type
                 FROM ${TABLES.statusChange}
                WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz
             ), groups AS (
               ${keys.length ? `SELECT DISTINCT ${list} FROM facts ORDER BY ${list} LIMIT $3` : 'SELECT'}
             ), counted AS (
               SELECT ${keys.map((k) => `g.${k}, `).join('')}st.status_type,
                      (SELECT count(*) FROM facts f WHERE f.status_type = st.status_type
                         ${keys.map((k) => `AND f.${k} IS NOT DISTINCT FROM g.${k}`).join(' ')})::int AS job_count
                 FROM groups g CROSS JOIN unnest(${array}) AS st(status_type)
             )
             SELECT ${gk}status_type, job_count,
                    job_count::float8 / nullif(sum(job_count) OVER (PARTITION BY ${keys.length ? list : '1'}), 0) AS share
               FROM counted
              WHERE status_type <> 'UNKNOWN' OR job_count > 0
              ORDER BY ${gk}array_position(${array}, status_type)`,
      values: [new Date(w.start).toISOString(), new Date(w.end + 1).toISOString(), ...(keys.length ? [p.limit] : [])],
    };
  },
};

/** The on-the-fly statement for a compiled query's request; throws for a query this harness does not know. */
export function onTheFly(queryName: string, window: TimeWindow, params: AppliedParams): SqlQuery {
  const build = builders[queryName];
  if (!build) throw new Error(`bench/on-the-fly.ts has no on-the-fly statement for '${queryName}'; add one`);
  return build(window, params);
}

type Row = Readonly<Record<string, unknown>>;

function sameValue(a: unknown, e: unknown): boolean {
  if (typeof a === 'number' && typeof e === 'number') {
    return a === e || Math.abs(a - e) <= 1e-9 * Math.max(1, Math.abs(e));
  }
  return a === e;
}

/** null when the rows agree; otherwise the first difference, in words. */
export function firstDifference(actual: readonly Row[], expected: readonly Row[]): string | null {
  if (actual.length !== expected.length) return `${actual.length} rows, expected ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const keys = Object.keys(e);
    if (Object.keys(a).length !== keys.length) return `row ${i}: columns ${Object.keys(a).join(',')}, expected ${keys.join(',')}`;
    for (const k of keys) {
      if (!sameValue(a[k], e[k])) return `row ${i} ${k}: ${JSON.stringify(a[k])}, expected ${JSON.stringify(e[k])}`;
    }
  }
  return null;
}
