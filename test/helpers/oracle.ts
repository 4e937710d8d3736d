/**
 * The oracle of the compiled queries: each aggregation written straight from its definition over
 * the base tables, never through the rollup engine. The exactness tests compare the API with it,
 * and the benchmark times it as the "on the fly" path that compiled queries replace.
 */
import { Params, type SqlQuery } from '../../src/db/sql.ts';
import { TABLES } from '../../src/db/tables.ts';
import type { TimeWindow } from '../../src/rollup/window.ts';

export interface OracleRequest {
  readonly group_by?: readonly string[];
  readonly limit?: number;
  readonly bucket?: 'hour' | 'day';
  /** Exact-match filters, as the API takes them. */
  readonly filters?: Readonly<Record<string, readonly string[]>>;
  /** A constrained user's patterns per field; a row must fully match one pattern of each field. */
  readonly scope?: Readonly<Record<string, readonly string[]>>;
}

const RUN_COL: Readonly<Record<string, string>> = {
  tenant_id: 'r.tenant_id',
  source_app: 'r.source_app',
  environment: 'r.environment',
  catalog_id: 'j.catalog_id',
  country: 'j.country',
};
const STATUS_COL: Readonly<Record<string, string>> = {
  tenant_id: 'tenant_id',
  source_app: 'source_app',
  environment: 'environment',
  country: 'country',
};
const JOINED = `${TABLES.runs} r JOIN ${TABLES.runsJobs} j ON j.event_id = r.event_id`;
const STATUSES = ['WAITING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'KILLED', 'UNKNOWN'];
const FAILED = "lower(j.status) = 'failed'";

function column(map: Readonly<Record<string, string>>, key: string): string {
  const col = map[key];
  // Keys come from validated requests, but the SQL text must never take a name blindly.
  if (col === undefined) throw new Error(`the oracle has no column for '${key}'`);
  return col;
}

/** Filters and scope as one condition; values go through p. */
function where(req: OracleRequest, map: Readonly<Record<string, string>>, p: Params): string {
  const out = ['TRUE'];
  for (const [d, v] of Object.entries(req.filters ?? {})) out.push(`${column(map, d)} = ANY(${p.add(v)}::text[])`);
  for (const [d, patterns] of Object.entries(req.scope ?? {})) {
    out.push(`${column(map, d)} ~ ANY(${p.add(patterns.map((x) => `^(?:${x})$`))}::text[])`);
  }
  return out.join(' AND ');
}

const builders: Readonly<Record<string, (w: TimeWindow, req: OracleRequest, p: Params) => string>> = {
  failed_jobs: (w, req, p) => {
    const keys = req.group_by ?? [];
    const by = keys.map((_, i) => String(i + 1)).join(', ');
    return `SELECT ${keys.map((k) => `${column(RUN_COL, k)} AS ${k}`).join(', ')},
                   (count(*) FILTER (WHERE ${FAILED}))::int AS failed_count, count(*)::int AS job_count,
                   (count(*) FILTER (WHERE ${FAILED}))::float8 / count(*) AS failure_rate,
                   (max(j.timestamp_end) FILTER (WHERE ${FAILED}))::float8 AS last_failure_at
              FROM ${JOINED}
             WHERE r.timestamp_start >= ${p.add(w.start)} AND r.timestamp_start <= ${p.add(w.end)} AND ${where(req, RUN_COL, p)}
             GROUP BY ${by}
            HAVING count(*) FILTER (WHERE ${FAILED}) > 0
             ORDER BY failed_count DESC, ${by} LIMIT ${p.add(req.limit)}`;
  },
  failed_jobs_by_country: (w, req, p) => {
    const keys = req.group_by ?? [];
    const by = keys.map((_, i) => String(i + 1)).join(', ');
    return `SELECT ${keys.map((k) => `${column(RUN_COL, k)} AS ${k}`).join(', ')},
                   (count(*) FILTER (WHERE ${FAILED}))::int AS failed_count, count(*)::int AS job_count,
                   (count(*) FILTER (WHERE ${FAILED}))::float8 / count(*) AS failure_rate
              FROM ${JOINED}
             WHERE r.timestamp_start >= ${p.add(w.start)} AND r.timestamp_start <= ${p.add(w.end)} AND ${where(req, RUN_COL, p)}
             GROUP BY ${by}
            HAVING count(*) FILTER (WHERE ${FAILED}) > 0
             ORDER BY failed_count DESC, ${by} LIMIT ${p.add(req.limit)}`;
  },
  aggregation_by_catalog: (w, req, p) => `
    SELECT j.catalog_id, count(*)::int AS job_count,
           (count(*) FILTER (WHERE lower(j.status) = 'succeeded'))::int AS succeeded_count,
           (count(*) FILTER (WHERE ${FAILED}))::int AS failed_count,
           (count(*) FILTER (WHERE lower(j.status) = 'succeeded'))::float8 / count(*) AS success_rate,
           avg(j.timestamp_end - j.timestamp_start)::float8 AS avg_elapsed_ms,
           min(j.timestamp_end - j.timestamp_start)::float8 AS min_elapsed_ms,
           max(j.timestamp_end - j.timestamp_start)::float8 AS max_elapsed_ms,
           max(j.timestamp_end)::float8 AS last_job_at
      FROM ${JOINED}
     WHERE r.timestamp_start BETWEEN ${p.add(w.start)} AND ${p.add(w.end)} AND ${where(req, RUN_COL, p)}
     GROUP BY 1 ORDER BY job_count DESC, 1 LIMIT ${p.add(req.limit)}`,
  job_status_trend: (w, req, p) => {
    const [s, e, g] = [p.add(w.start), p.add(w.end), p.add(req.bucket === 'hour' ? 3_600_000 : 86_400_000)];
    return `WITH series AS (
              SELECT generate_series(floor(${s}::numeric / ${g})::bigint * ${g}, floor(${e}::numeric / ${g})::bigint * ${g}, ${g}::bigint) AS b
            ), facts AS (
              SELECT floor(r.timestamp_start::numeric / ${g})::bigint * ${g} AS b, lower(j.status) AS st
                FROM ${JOINED}
               WHERE r.timestamp_start BETWEEN ${s} AND ${e} AND ${where(req, RUN_COL, p)}
            )
            SELECT s.b::float8 AS bucket_start,
                   count(f.st) FILTER (WHERE f.st = 'succeeded')::int AS succeeded,
                   count(f.st) FILTER (WHERE f.st = 'failed')::int AS failed,
                   count(f.st) FILTER (WHERE f.st = 'killed')::int AS killed,
                   count(f.st) FILTER (WHERE f.st = 'skipped')::int AS skipped,
                   count(f.st)::int AS total
              FROM series s LEFT JOIN facts f ON f.b = s.b GROUP BY s.b ORDER BY s.b`;
  },
  run_status_summary: (w, req, p) => {
    const keys = req.group_by ?? [];
    keys.forEach((k) => column(STATUS_COL, k));
    const list = keys.join(', ');
    const gk = keys.length ? `${list}, ` : '';
    const array = `ARRAY[${STATUSES.map((s) => `'${s}'`).join(',')}]`;
    // created_at is compared at millisecond precision: [start, end] inclusive is [start, end + 1 ms).
    return `WITH facts AS (
              SELECT ${gk}coalesce(status_type, 'UNKNOWN') AS status_type
                FROM ${TABLES.statusChange}
               WHERE created_at >= ${p.add(new Date(w.start).toISOString())}::timestamptz
                 AND created_at < ${p.add(new Date(w.end + 1).toISOString())}::timestamptz
                 AND ${where(req, STATUS_COL, p)}
            ), groups AS (
              ${keys.length ? `SELECT DISTINCT ${list} FROM facts ORDER BY ${list} LIMIT ${p.add(req.limit)}` : 'SELECT'}
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
             ORDER BY ${gk}array_position(${array}, status_type)`;
  },
};

/** The oracle statement for a compiled query's request; throws for a query it does not know. */
export function oracle(queryName: string, window: TimeWindow, req: OracleRequest): SqlQuery {
  const build = builders[queryName];
  if (!build) throw new Error(`test/helpers/oracle.ts has no statement for '${queryName}'; add one`);
  const p = new Params();
  const text = build(window, req, p);
  return { text, values: p.values };
}
