-- Up Migration
-- Compiled query aggregation_by_catalog (src/queries/aggregation-by-catalog.ts). Layout: see
-- src/queries/rollup.ts. null_mask bits: tenant_id 1, source_app 2, catalog_id 4.
--   lvl 0: (tenant_id, source_app, catalog_id) at day grain — the catalog table, also filterable
--          by tenant and pipeline (a catalog belongs to one pipeline, so this is ~one row per
--          catalog and day) — and at hour and minute grain for recent facts only.
-- Recent facts: timestamp_start >= cutoff, where cutoff is the start of the (UTC) day of
-- least(max(timestamp_start), now()) minus 8 days, in epoch ms. Their hours and minutes let a read
-- of the last week take its edges from the view down to the minute. Per catalog they barely
-- compress (measured at 10M jobs: 985k minute and 643k hour rows for ~1M recent jobs, beside 454k
-- day rows), hence recent facts only. No facts, no hour or minute rows (least() skips the NULL max).
-- Environment/country as dimensions, and the partial edges of older windows, come from the base
-- tables.
DROP MATERIALIZED VIEW eventstats.mv_aggregation_by_catalog;

CREATE MATERIALIZED VIEW eventstats.mv_aggregation_by_catalog AS
WITH cutoff AS (
    -- max over the timestamp_start index: one lookup.
    SELECT t - ((t % 86400000) + 86400000) % 86400000 - 8 * 86400000 AS ms
      FROM (SELECT least(max(timestamp_start), floor(extract(epoch FROM now()) * 1000)::bigint) AS t
              FROM public_cps_za_runs) AS latest
),
-- The one pass over the join: minute buckets for recent facts, day buckets for the others. The
-- cutoff is a day boundary, so a day is either wholly recent or not recent at all. The cutoff is
-- read through a scalar subquery (an InitPlan, one index lookup): joining the CTE instead would
-- keep the join and its sort out of the parallel workers. (Measured alternative: the previous
-- all-time day query plus a second join scan over the recent runs only. It reads the jobs table
-- twice, and was no faster at 10M jobs.)
fine AS (
    SELECT CASE WHEN f.recent THEN f.ts - ((f.ts % 60000) + 60000) % 60000
                ELSE f.ts - ((f.ts % 86400000) + 86400000) % 86400000 END AS bucket,
           f.recent, f.tenant_id, f.source_app, f.catalog_id,
           count(*) AS job_count,
           count(*) FILTER (WHERE lower(f.status) = 'succeeded') AS succeeded_count,
           count(*) FILTER (WHERE lower(f.status) = 'failed') AS failed_count,
           sum(f.elapsed) AS elapsed_sum,
           count(f.elapsed) AS elapsed_n,
           min(f.elapsed) AS elapsed_min,
           max(f.elapsed) AS elapsed_max,
           max(f.job_end) AS last_job_at
      FROM (SELECT r.timestamp_start AS ts, (r.timestamp_start >= (SELECT ms FROM cutoff)) IS TRUE AS recent,
                   r.tenant_id::text AS tenant_id, r.source_app::text AS source_app, j.catalog_id::text AS catalog_id,
                   j.status, j.timestamp_end - j.timestamp_start AS elapsed, j.timestamp_end AS job_end
              FROM public_cps_za_runs r
              JOIN public_cps_za_runs_jobs j ON j.event_id = r.event_id
             WHERE r.timestamp_start IS NOT NULL) AS f
     GROUP BY 1, 2, 3, 4, 5
),
hourly AS (
    SELECT bucket - ((bucket % 3600000) + 3600000) % 3600000 AS bucket, tenant_id, source_app, catalog_id,
           sum(job_count)::bigint AS job_count, sum(succeeded_count)::bigint AS succeeded_count,
           sum(failed_count)::bigint AS failed_count, sum(elapsed_sum) AS elapsed_sum,
           sum(elapsed_n)::bigint AS elapsed_n, min(elapsed_min) AS elapsed_min, max(elapsed_max) AS elapsed_max,
           max(last_job_at) AS last_job_at
      FROM fine
     WHERE recent
     GROUP BY 1, 2, 3, 4
)
-- Days before the cutoff come out of the pass as they are; recent days are summed from the hours.
SELECT 0 AS lvl, 86400000::bigint AS grain_ms, bucket, 0 AS null_mask, tenant_id, source_app, catalog_id,
       job_count, succeeded_count, failed_count, elapsed_sum, elapsed_n, elapsed_min, elapsed_max, last_job_at
  FROM fine
 WHERE NOT recent
UNION ALL
SELECT 0, 86400000, bucket - ((bucket % 86400000) + 86400000) % 86400000, 0, tenant_id, source_app, catalog_id,
       sum(job_count)::bigint, sum(succeeded_count)::bigint, sum(failed_count)::bigint, sum(elapsed_sum),
       sum(elapsed_n)::bigint, min(elapsed_min), max(elapsed_max), max(last_job_at)
  FROM hourly
 GROUP BY 3, 5, 6, 7
UNION ALL
SELECT 0, 3600000, bucket, 0, tenant_id, source_app, catalog_id,
       job_count, succeeded_count, failed_count, elapsed_sum, elapsed_n, elapsed_min, elapsed_max, last_job_at
  FROM hourly
UNION ALL
SELECT 0, 60000, bucket, 0, tenant_id, source_app, catalog_id,
       job_count, succeeded_count, failed_count, elapsed_sum, elapsed_n, elapsed_min, elapsed_max, last_job_at
  FROM fine
 WHERE recent
WITH NO DATA;

CREATE UNIQUE INDEX mv_aggregation_by_catalog_key
    ON eventstats.mv_aggregation_by_catalog (lvl, grain_ms, bucket, null_mask, tenant_id, source_app, catalog_id);
GRANT SELECT ON eventstats.mv_aggregation_by_catalog TO eventstats_reader;

-- Down Migration
DROP MATERIALIZED VIEW eventstats.mv_aggregation_by_catalog;

CREATE MATERIALIZED VIEW eventstats.mv_aggregation_by_catalog AS
SELECT 0 AS lvl, 86400000::bigint AS grain_ms,
       r.timestamp_start - ((r.timestamp_start % 86400000) + 86400000) % 86400000 AS bucket,
       0 AS null_mask,
       r.tenant_id::text AS tenant_id, r.source_app::text AS source_app, j.catalog_id::text AS catalog_id,
       count(*) AS job_count,
       count(*) FILTER (WHERE lower(j.status) = 'succeeded') AS succeeded_count,
       count(*) FILTER (WHERE lower(j.status) = 'failed') AS failed_count,
       sum(j.timestamp_end - j.timestamp_start) AS elapsed_sum,
       count(j.timestamp_end - j.timestamp_start) AS elapsed_n,
       min(j.timestamp_end - j.timestamp_start) AS elapsed_min,
       max(j.timestamp_end - j.timestamp_start) AS elapsed_max,
       max(j.timestamp_end) AS last_job_at
  FROM public_cps_za_runs r
  JOIN public_cps_za_runs_jobs j ON j.event_id = r.event_id
 WHERE r.timestamp_start IS NOT NULL
 GROUP BY 3, 5, 6, 7
WITH NO DATA;

CREATE UNIQUE INDEX mv_aggregation_by_catalog_key
    ON eventstats.mv_aggregation_by_catalog (lvl, grain_ms, bucket, null_mask, tenant_id, source_app, catalog_id);
GRANT SELECT ON eventstats.mv_aggregation_by_catalog TO eventstats_reader;
