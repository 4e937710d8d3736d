-- Up Migration
-- Compiled query failed_jobs (src/queries/failed-jobs.ts). Layout shared by every view: see
-- src/queries/rollup.ts. null_mask bits: tenant_id 1, source_app 2, environment 4.
--   lvl 0: (tenant_id, source_app) at hour and day grain — the dashboard default grouping;
--   lvl 1: (tenant_id, source_app, environment) at hour and day grain.
-- Reads by catalog_id or country go to the base tables: per catalog (and country) and day the
-- data barely compresses (measured: a catalog-day level held as many rows as there were jobs at
-- 1M jobs), so such a level would only double the refresh cost.
CREATE MATERIALIZED VIEW eventstats.mv_failed_jobs AS
WITH hourly AS (
    SELECT r.timestamp_start - ((r.timestamp_start % 3600000) + 3600000) % 3600000 AS bucket,
           r.tenant_id::text AS tenant_id, r.source_app::text AS source_app, r.environment::text AS environment,
           count(*) AS job_count,
           count(*) FILTER (WHERE lower(j.status) = 'failed') AS failed_count,
           max(j.timestamp_end) FILTER (WHERE lower(j.status) = 'failed') AS last_failure_at
      FROM public_cps_za_runs r
      JOIN public_cps_za_runs_jobs j ON j.event_id = r.event_id
     WHERE r.timestamp_start IS NOT NULL
     GROUP BY 1, 2, 3, 4
),
grains AS (
    SELECT 3600000::bigint AS grain_ms, bucket, tenant_id, source_app, environment, job_count, failed_count, last_failure_at
      FROM hourly
    UNION ALL
    SELECT 86400000, bucket - ((bucket % 86400000) + 86400000) % 86400000, tenant_id, source_app, environment,
           sum(job_count)::bigint, sum(failed_count)::bigint, max(last_failure_at)
      FROM hourly
     GROUP BY 2, 3, 4, 5
)
-- environment is NOT NULL in the source, so a NULL here only means "left out by lvl 0".
SELECT 1 - GROUPING(environment) AS lvl, grain_ms, bucket, GROUPING(environment) << 2 AS null_mask,
       tenant_id, source_app, coalesce(environment, '') AS environment,
       sum(job_count)::bigint AS job_count, sum(failed_count)::bigint AS failed_count, max(last_failure_at) AS last_failure_at
  FROM grains
 GROUP BY GROUPING SETS ((grain_ms, bucket, tenant_id, source_app), (grain_ms, bucket, tenant_id, source_app, environment))
WITH NO DATA;

CREATE UNIQUE INDEX mv_failed_jobs_key
    ON eventstats.mv_failed_jobs (lvl, grain_ms, bucket, null_mask, tenant_id, source_app, environment);
GRANT SELECT ON eventstats.mv_failed_jobs TO eventstats_reader;

-- Down Migration
DROP MATERIALIZED VIEW eventstats.mv_failed_jobs;
