-- Up Migration
-- Compiled query run_status_summary (src/queries/run-status-summary.ts). Layout: see
-- src/queries/rollup.ts. Every dimension of this table is nullable, so null_mask records real
-- NULLs as well as the dimensions a level leaves out. Bits: tenant_id 1, source_app 2,
-- environment 4, status_type 8.
--   lvl 0: (status_type) at hour and day grain — the default, ungrouped distribution;
--   lvl 1: (tenant_id, source_app, environment, status_type) at hour and day grain.
-- Reads filtered by country go to the base table.
CREATE MATERIALIZED VIEW eventstats.mv_run_status_summary AS
WITH hourly AS (
    SELECT ts - ((ts % 3600000) + 3600000) % 3600000 AS bucket, tenant_id, source_app, environment, status_type,
           count(*) AS job_count
      FROM (SELECT floor(extract(epoch FROM created_at) * 1000)::bigint AS ts,
                   tenant_id, source_app, environment, status_type
              FROM public_cps_za_status_change_aggregated_job
             WHERE created_at IS NOT NULL) AS facts
     GROUP BY 1, 2, 3, 4, 5
),
grains AS (
    SELECT 3600000::bigint AS grain_ms, bucket, tenant_id, source_app, environment, status_type, job_count
      FROM hourly
    UNION ALL
    SELECT 86400000, bucket - ((bucket % 86400000) + 86400000) % 86400000, tenant_id, source_app, environment,
           status_type, sum(job_count)::bigint
      FROM hourly
     GROUP BY 2, 3, 4, 5, 6
),
levels AS (
    SELECT 1 AS lvl, grain_ms, bucket, tenant_id, source_app, environment, status_type, job_count,
           (tenant_id IS NULL)::int | ((source_app IS NULL)::int << 1) | ((environment IS NULL)::int << 2) AS mask
      FROM grains
    UNION ALL
    SELECT 0, grain_ms, bucket, NULL, NULL, NULL, status_type, sum(job_count)::bigint, 7
      FROM grains
     GROUP BY grain_ms, bucket, status_type
)
-- PostgreSQL gives | and << the same precedence (left to right): every shift is parenthesised.
SELECT lvl, grain_ms, bucket, mask | ((status_type IS NULL)::int << 3) AS null_mask,
       coalesce(tenant_id, '') AS tenant_id, coalesce(source_app, '') AS source_app,
       coalesce(environment, '') AS environment, coalesce(status_type, '') AS status_type,
       job_count
  FROM levels
WITH NO DATA;

CREATE UNIQUE INDEX mv_run_status_summary_key
    ON eventstats.mv_run_status_summary (lvl, grain_ms, bucket, null_mask, tenant_id, source_app, environment, status_type);
GRANT SELECT ON eventstats.mv_run_status_summary TO eventstats_reader;

-- Down Migration
DROP MATERIALIZED VIEW eventstats.mv_run_status_summary;
