-- Up Migration
-- Compiled query failed_jobs (src/queries/failed-jobs.ts). Layout shared by every view: see
-- src/queries/rollup.ts. Dimension bits of null_mask: tenant_id 1, source_app 2, environment 4,
-- catalog_id 8, country 16.
--   lvl 0: (tenant_id, source_app, environment) at hour and day grain — the dashboard default;
--   lvl 1: (tenant_id, source_app, environment, catalog_id) at day grain.
-- Reads by country go to the base tables: per country and catalog the data barely compresses.
CREATE MATERIALIZED VIEW eventstats.mv_failed_jobs AS
WITH facts AS (
    SELECT r.timestamp_start AS ts,
           r.tenant_id::text AS tenant_id, r.source_app::text AS source_app, r.environment::text AS environment,
           j.catalog_id::text AS catalog_id,
           lower(j.status) = 'failed' AS failed, j.timestamp_end
      FROM public_cps_za_runs r
      JOIN public_cps_za_runs_jobs j ON j.event_id = r.event_id
     WHERE r.timestamp_start IS NOT NULL
),
hourly AS (
    SELECT ts - ((ts % 3600000) + 3600000) % 3600000 AS bucket, tenant_id, source_app, environment,
           count(*) AS job_count,
           count(*) FILTER (WHERE failed) AS failed_count,
           max(timestamp_end) FILTER (WHERE failed) AS last_failure_at
      FROM facts
     GROUP BY 1, 2, 3, 4
)
SELECT 0 AS lvl, 3600000::bigint AS grain_ms, bucket, 24 AS null_mask,
       tenant_id, source_app, environment, ''::text AS catalog_id,
       job_count, failed_count, last_failure_at
  FROM hourly
UNION ALL
SELECT 0, 86400000, bucket - ((bucket % 86400000) + 86400000) % 86400000, 24,
       tenant_id, source_app, environment, '',
       sum(job_count)::bigint, sum(failed_count)::bigint, max(last_failure_at)
  FROM hourly
 GROUP BY 3, 5, 6, 7
UNION ALL
SELECT 1, 86400000, ts - ((ts % 86400000) + 86400000) % 86400000, 16,
       tenant_id, source_app, environment, catalog_id,
       count(*), count(*) FILTER (WHERE failed), max(timestamp_end) FILTER (WHERE failed)
  FROM facts
 GROUP BY 3, 5, 6, 7, 8
WITH NO DATA;

CREATE UNIQUE INDEX mv_failed_jobs_key
    ON eventstats.mv_failed_jobs (lvl, grain_ms, bucket, null_mask, tenant_id, source_app, environment, catalog_id);
GRANT SELECT ON eventstats.mv_failed_jobs TO eventstats_reader;

-- Down Migration
DROP MATERIALIZED VIEW eventstats.mv_failed_jobs;
