-- Up Migration
-- Compiled query aggregation_by_catalog (src/queries/aggregation-by-catalog.ts). Layout: see
-- src/queries/rollup.ts. null_mask bits: tenant_id 1, source_app 2, environment 4, catalog_id 8.
--   lvl 0: (tenant_id, source_app, catalog_id) at day grain — the unfiltered catalog table;
--   lvl 1: (tenant_id, source_app, environment, catalog_id) at day grain.
-- An hour grain would hold about as many rows as there are jobs, so the partial days at the
-- window's edges are read from the base tables instead.
CREATE MATERIALIZED VIEW eventstats.mv_aggregation_by_catalog AS
WITH facts AS (
    SELECT r.timestamp_start - ((r.timestamp_start % 86400000) + 86400000) % 86400000 AS bucket,
           r.tenant_id::text AS tenant_id, r.source_app::text AS source_app, r.environment::text AS environment,
           j.catalog_id::text AS catalog_id,
           lower(j.status) AS status,
           j.timestamp_end - j.timestamp_start AS elapsed,
           j.timestamp_end
      FROM public_cps_za_runs r
      JOIN public_cps_za_runs_jobs j ON j.event_id = r.event_id
     WHERE r.timestamp_start IS NOT NULL
),
daily AS (
    SELECT bucket, tenant_id, source_app, environment, catalog_id,
           count(*) AS job_count,
           count(*) FILTER (WHERE status = 'succeeded') AS succeeded_count,
           count(*) FILTER (WHERE status = 'failed') AS failed_count,
           sum(elapsed) AS elapsed_sum,
           count(elapsed) AS elapsed_n,
           min(elapsed) AS elapsed_min,
           max(elapsed) AS elapsed_max,
           max(timestamp_end) AS last_job_at
      FROM facts
     GROUP BY 1, 2, 3, 4, 5
)
SELECT 1 AS lvl, 86400000::bigint AS grain_ms, bucket, 0 AS null_mask,
       tenant_id, source_app, environment, catalog_id,
       job_count, succeeded_count, failed_count, elapsed_sum, elapsed_n, elapsed_min, elapsed_max, last_job_at
  FROM daily
UNION ALL
SELECT 0, 86400000, bucket, 4,
       tenant_id, source_app, '', catalog_id,
       sum(job_count)::bigint, sum(succeeded_count)::bigint, sum(failed_count)::bigint,
       sum(elapsed_sum), sum(elapsed_n)::bigint, min(elapsed_min), max(elapsed_max), max(last_job_at)
  FROM daily
 GROUP BY 3, 5, 6, 8
WITH NO DATA;

CREATE UNIQUE INDEX mv_aggregation_by_catalog_key
    ON eventstats.mv_aggregation_by_catalog (lvl, grain_ms, bucket, null_mask, tenant_id, source_app, environment, catalog_id);
GRANT SELECT ON eventstats.mv_aggregation_by_catalog TO eventstats_reader;

-- Down Migration
DROP MATERIALIZED VIEW eventstats.mv_aggregation_by_catalog;
