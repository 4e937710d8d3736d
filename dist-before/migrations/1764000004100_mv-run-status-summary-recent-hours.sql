-- Up Migration
-- Compiled query run_status_summary (src/queries/run-status-summary.ts). Layout: see
-- src/queries/rollup.ts. Every dimension of this table is nullable, so null_mask records real
-- NULLs as well as the dimensions a level leaves out. Bits: tenant_id 1, source_app 2,
-- environment 4, status_type 8.
--   lvl 0: (status_type) at hour and day grain — the default, ungrouped distribution — and at
--          minute grain for recent facts only;
--   lvl 1: (tenant_id, source_app, environment, status_type) at day grain, and at hour grain for
--          recent facts only. All-time hours at this level held 1.4M rows at 10M jobs (2M status
--          rows), about one per source row: they cost REFRESH ... CONCURRENTLY's diff more than
--          they saved reads. Older windows filtered or grouped by these dimensions take their
--          partial days from the base table.
-- Recent facts: created_at (as epoch ms, floored) >= cutoff, where cutoff is the start of the (UTC)
-- day of least(max(created_at), now()) minus 8 days, in epoch ms. No facts, no recent rows.
-- Reads filtered by country go to the base table.
DROP MATERIALIZED VIEW eventstats.mv_run_status_summary;

CREATE MATERIALIZED VIEW eventstats.mv_run_status_summary AS
WITH cutoff AS (
    -- max over the created_at index: one lookup.
    SELECT t - ((t % 86400000) + 86400000) % 86400000 - 8 * 86400000 AS ms
      FROM (SELECT least(floor(extract(epoch FROM max(created_at)) * 1000)::bigint,
                         floor(extract(epoch FROM now()) * 1000)::bigint) AS t
              FROM public_cps_za_status_change_aggregated_job) AS latest
),
-- The one pass over the table: minute buckets for recent facts, hour buckets for the others. The
-- cutoff is a day boundary, so an hour is either wholly recent or not recent at all. The cutoff is
-- read through a scalar subquery (an InitPlan, one index lookup), which keeps the scan parallel.
fine AS (
    SELECT CASE WHEN recent THEN ts - ((ts % 60000) + 60000) % 60000
                ELSE ts - ((ts % 3600000) + 3600000) % 3600000 END AS bucket,
           recent, tenant_id, source_app, environment, status_type,
           count(*) AS job_count
      FROM (SELECT ts, (ts >= (SELECT ms FROM cutoff)) IS TRUE AS recent, tenant_id, source_app, environment, status_type
              FROM (SELECT floor(extract(epoch FROM created_at) * 1000)::bigint AS ts,
                           tenant_id, source_app, environment, status_type
                      FROM public_cps_za_status_change_aggregated_job
                     WHERE created_at IS NOT NULL) AS facts) AS f
     GROUP BY 1, 2, 3, 4, 5, 6
),
-- Hours before the cutoff come out of the pass as they are; recent hours are summed from the minutes.
grains AS (
    SELECT 3600000::bigint AS grain_ms, bucket, false AS recent, tenant_id, source_app, environment, status_type, job_count
      FROM fine
     WHERE NOT recent
    UNION ALL
    SELECT 3600000, bucket - ((bucket % 3600000) + 3600000) % 3600000, true, tenant_id, source_app, environment,
           status_type, sum(job_count)::bigint
      FROM fine
     WHERE recent
     GROUP BY 2, 4, 5, 6, 7
    UNION ALL
    SELECT 86400000, bucket - ((bucket % 86400000) + 86400000) % 86400000, true, tenant_id, source_app, environment,
           status_type, sum(job_count)::bigint
      FROM fine
     GROUP BY 2, 4, 5, 6, 7
),
levels AS (
    -- lvl 1 keeps its hours for recent facts only.
    SELECT 1 AS lvl, grain_ms, bucket, tenant_id, source_app, environment, status_type, job_count,
           (tenant_id IS NULL)::int | ((source_app IS NULL)::int << 1) | ((environment IS NULL)::int << 2) AS mask
      FROM grains
     WHERE grain_ms = 86400000 OR recent
    UNION ALL
    SELECT 0, grain_ms, bucket, NULL, NULL, NULL, status_type, sum(job_count)::bigint, 7
      FROM grains
     GROUP BY grain_ms, bucket, status_type
    UNION ALL
    -- The recent minutes, lvl 0 only.
    SELECT 0, 60000, bucket, NULL, NULL, NULL, status_type, sum(job_count)::bigint, 7
      FROM fine
     WHERE recent
     GROUP BY bucket, status_type
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

CREATE MATERIALIZED VIEW eventstats.mv_run_status_summary AS
WITH cutoff AS (
    -- max over the created_at index: one lookup.
    SELECT t - ((t % 86400000) + 86400000) % 86400000 - 8 * 86400000 AS ms
      FROM (SELECT least(floor(extract(epoch FROM max(created_at)) * 1000)::bigint,
                         floor(extract(epoch FROM now()) * 1000)::bigint) AS t
              FROM public_cps_za_status_change_aggregated_job) AS latest
),
-- The one pass over the table: minute buckets for recent facts, hour buckets for the others. The
-- cutoff is a day boundary, so an hour is either wholly recent or not recent at all. The cutoff is
-- read through a scalar subquery (an InitPlan, one index lookup), which keeps the scan parallel.
fine AS (
    SELECT CASE WHEN recent THEN ts - ((ts % 60000) + 60000) % 60000
                ELSE ts - ((ts % 3600000) + 3600000) % 3600000 END AS bucket,
           recent, tenant_id, source_app, environment, status_type,
           count(*) AS job_count
      FROM (SELECT ts, (ts >= (SELECT ms FROM cutoff)) IS TRUE AS recent, tenant_id, source_app, environment, status_type
              FROM (SELECT floor(extract(epoch FROM created_at) * 1000)::bigint AS ts,
                           tenant_id, source_app, environment, status_type
                      FROM public_cps_za_status_change_aggregated_job
                     WHERE created_at IS NOT NULL) AS facts) AS f
     GROUP BY 1, 2, 3, 4, 5, 6
),
-- Hours before the cutoff come out of the pass as they are; recent hours are summed from the minutes.
grains AS (
    SELECT 3600000::bigint AS grain_ms, bucket, tenant_id, source_app, environment, status_type, job_count
      FROM fine
     WHERE NOT recent
    UNION ALL
    SELECT 3600000, bucket - ((bucket % 3600000) + 3600000) % 3600000, tenant_id, source_app, environment,
           status_type, sum(job_count)::bigint
      FROM fine
     WHERE recent
     GROUP BY 2, 3, 4, 5, 6
    UNION ALL
    SELECT 86400000, bucket - ((bucket % 86400000) + 86400000) % 86400000, tenant_id, source_app, environment,
           status_type, sum(job_count)::bigint
      FROM fine
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
    UNION ALL
    -- The recent minutes, lvl 0 only.
    SELECT 0, 60000, bucket, NULL, NULL, NULL, status_type, sum(job_count)::bigint, 7
      FROM fine
     WHERE recent
     GROUP BY bucket, status_type
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
