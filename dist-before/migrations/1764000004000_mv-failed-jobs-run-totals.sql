-- Up Migration
-- Compiled query failed_jobs (src/queries/failed-jobs.ts). Layout shared by every view: see
-- src/queries/rollup.ts. null_mask bits: tenant_id 1, source_app 2, environment 4.
--   lvl 0: (tenant_id, source_app) at hour and day grain — the dashboard default grouping — and at
--          minute grain for recent facts only;
--   lvl 1: (tenant_id, source_app, environment) at day grain, and at hour grain for recent facts
--          only (all-time hours per environment held ~1.15M rows at 10M jobs, barely fewer than
--          the runs, and dominated the cost of REFRESH ... CONCURRENTLY's diff).
-- Recent facts: timestamp_start >= cutoff, where cutoff is the start of the (UTC) day of
-- least(max(timestamp_start), now()) minus 8 days, in epoch ms. No facts, no recent rows.
-- Reads by catalog_id or country go to the base tables.
--
-- Cost (measured at 10M jobs, EXPLAIN ANALYZE): the previous definition grouped the 10M joined
-- job rows by bucket and dimensions, which sorted them on disk (~22 s). Here the jobs are first
-- totalled per run (one pass in event_id order over the jobs), so the join and the grouping see
-- 2M run rows instead (~7-9 s). Same numbers: every measure is a sum or a max, and a run's jobs
-- all share its bucket and dimensions.
DROP MATERIALIZED VIEW eventstats.mv_failed_jobs;

CREATE MATERIALIZED VIEW eventstats.mv_failed_jobs AS
WITH cutoff AS (
    -- max over the timestamp_start index: one lookup.
    SELECT t - ((t % 86400000) + 86400000) % 86400000 - 8 * 86400000 AS ms
      FROM (SELECT least(max(timestamp_start), floor(extract(epoch FROM now()) * 1000)::bigint) AS t
              FROM public_cps_za_runs) AS latest
),
per_run AS (
    SELECT event_id, count(*) AS job_count,
           count(*) FILTER (WHERE lower(status) = 'failed') AS failed_count,
           max(timestamp_end) FILTER (WHERE lower(status) = 'failed') AS last_failure_at
      FROM public_cps_za_runs_jobs
     GROUP BY event_id
),
-- The pass over the runs: minute buckets for recent facts, hour buckets for the others. The cutoff
-- is a day boundary, so an hour is either wholly recent or not recent at all.
fine AS (
    SELECT CASE WHEN f.recent THEN f.ts - ((f.ts % 60000) + 60000) % 60000
                ELSE f.ts - ((f.ts % 3600000) + 3600000) % 3600000 END AS bucket,
           f.recent, f.tenant_id, f.source_app, f.environment,
           sum(f.job_count)::bigint AS job_count,
           sum(f.failed_count)::bigint AS failed_count,
           max(f.last_failure_at) AS last_failure_at
      FROM (SELECT r.timestamp_start AS ts, (r.timestamp_start >= (SELECT ms FROM cutoff)) IS TRUE AS recent,
                   r.tenant_id::text AS tenant_id, r.source_app::text AS source_app, r.environment::text AS environment,
                   p.job_count, p.failed_count, p.last_failure_at
              FROM public_cps_za_runs r
              JOIN per_run p ON p.event_id = r.event_id
             WHERE r.timestamp_start IS NOT NULL) AS f
     GROUP BY 1, 2, 3, 4, 5
),
-- Hours before the cutoff come out of the pass as they are; recent hours are summed from the minutes.
grains AS (
    SELECT 3600000::bigint AS grain_ms, bucket, recent, tenant_id, source_app, environment, job_count, failed_count, last_failure_at
      FROM fine
     WHERE NOT recent
    UNION ALL
    SELECT 3600000, bucket - ((bucket % 3600000) + 3600000) % 3600000, true, tenant_id, source_app, environment,
           sum(job_count)::bigint, sum(failed_count)::bigint, max(last_failure_at)
      FROM fine
     WHERE recent
     GROUP BY 2, 4, 5, 6
    UNION ALL
    SELECT 86400000, bucket - ((bucket % 86400000) + 86400000) % 86400000, true, tenant_id, source_app, environment,
           sum(job_count)::bigint, sum(failed_count)::bigint, max(last_failure_at)
      FROM fine
     GROUP BY 2, 4, 5, 6
)
-- environment is NOT NULL in the source, so a NULL here only means "left out by lvl 0". lvl 1 keeps
-- its hours for recent facts only (an hour's rows are all recent or all not: bool_and = bool_or).
SELECT 1 - GROUPING(environment) AS lvl, grain_ms, bucket, GROUPING(environment) << 2 AS null_mask,
       tenant_id, source_app, coalesce(environment, '') AS environment,
       sum(job_count)::bigint AS job_count, sum(failed_count)::bigint AS failed_count, max(last_failure_at) AS last_failure_at
  FROM grains
 GROUP BY GROUPING SETS ((grain_ms, bucket, tenant_id, source_app), (grain_ms, bucket, tenant_id, source_app, environment))
HAVING GROUPING(environment) = 1 OR grain_ms = 86400000 OR bool_and(recent)
UNION ALL
-- The recent minutes, lvl 0 only (environment left out: null_mask 4, as on the other lvl 0 rows).
SELECT 0, 60000, bucket, 4, tenant_id, source_app, '',
       sum(job_count)::bigint, sum(failed_count)::bigint, max(last_failure_at)
  FROM fine
 WHERE recent
 GROUP BY bucket, tenant_id, source_app
WITH NO DATA;

CREATE UNIQUE INDEX mv_failed_jobs_key
    ON eventstats.mv_failed_jobs (lvl, grain_ms, bucket, null_mask, tenant_id, source_app, environment);
GRANT SELECT ON eventstats.mv_failed_jobs TO eventstats_reader;

-- Down Migration
DROP MATERIALIZED VIEW eventstats.mv_failed_jobs;

CREATE MATERIALIZED VIEW eventstats.mv_failed_jobs AS
WITH cutoff AS (
    -- max over the timestamp_start index: one lookup.
    SELECT t - ((t % 86400000) + 86400000) % 86400000 - 8 * 86400000 AS ms
      FROM (SELECT least(max(timestamp_start), floor(extract(epoch FROM now()) * 1000)::bigint) AS t
              FROM public_cps_za_runs) AS latest
),
-- The one pass over the join: minute buckets for recent facts, hour buckets for the others. The
-- cutoff is a day boundary, so an hour is either wholly recent or not recent at all. The cutoff is
-- read through a scalar subquery (an InitPlan, one index lookup): joining the CTE instead would
-- keep the join and its sort out of the parallel workers.
fine AS (
    SELECT CASE WHEN f.recent THEN f.ts - ((f.ts % 60000) + 60000) % 60000
                ELSE f.ts - ((f.ts % 3600000) + 3600000) % 3600000 END AS bucket,
           f.recent, f.tenant_id, f.source_app, f.environment,
           count(*) AS job_count,
           count(*) FILTER (WHERE lower(f.status) = 'failed') AS failed_count,
           max(f.job_end) FILTER (WHERE lower(f.status) = 'failed') AS last_failure_at
      FROM (SELECT r.timestamp_start AS ts, (r.timestamp_start >= (SELECT ms FROM cutoff)) IS TRUE AS recent,
                   r.tenant_id::text AS tenant_id, r.source_app::text AS source_app, r.environment::text AS environment,
                   j.status, j.timestamp_end AS job_end
              FROM public_cps_za_runs r
              JOIN public_cps_za_runs_jobs j ON j.event_id = r.event_id
             WHERE r.timestamp_start IS NOT NULL) AS f
     GROUP BY 1, 2, 3, 4, 5
),
-- Hours before the cutoff come out of the pass as they are; recent hours are summed from the minutes.
grains AS (
    SELECT 3600000::bigint AS grain_ms, bucket, tenant_id, source_app, environment, job_count, failed_count, last_failure_at
      FROM fine
     WHERE NOT recent
    UNION ALL
    SELECT 3600000, bucket - ((bucket % 3600000) + 3600000) % 3600000, tenant_id, source_app, environment,
           sum(job_count)::bigint, sum(failed_count)::bigint, max(last_failure_at)
      FROM fine
     WHERE recent
     GROUP BY 2, 3, 4, 5
    UNION ALL
    SELECT 86400000, bucket - ((bucket % 86400000) + 86400000) % 86400000, tenant_id, source_app, environment,
           sum(job_count)::bigint, sum(failed_count)::bigint, max(last_failure_at)
      FROM fine
     GROUP BY 2, 3, 4, 5
)
-- environment is NOT NULL in the source, so a NULL here only means "left out by lvl 0".
SELECT 1 - GROUPING(environment) AS lvl, grain_ms, bucket, GROUPING(environment) << 2 AS null_mask,
       tenant_id, source_app, coalesce(environment, '') AS environment,
       sum(job_count)::bigint AS job_count, sum(failed_count)::bigint AS failed_count, max(last_failure_at) AS last_failure_at
  FROM grains
 GROUP BY GROUPING SETS ((grain_ms, bucket, tenant_id, source_app), (grain_ms, bucket, tenant_id, source_app, environment))
UNION ALL
-- The recent minutes, lvl 0 only (environment left out: null_mask 4, as on the other lvl 0 rows).
SELECT 0, 60000, bucket, 4, tenant_id, source_app, '',
       sum(job_count)::bigint, sum(failed_count)::bigint, max(last_failure_at)
  FROM fine
 WHERE recent
 GROUP BY bucket, tenant_id, source_app
WITH NO DATA;

CREATE UNIQUE INDEX mv_failed_jobs_key
    ON eventstats.mv_failed_jobs (lvl, grain_ms, bucket, null_mask, tenant_id, source_app, environment);
GRANT SELECT ON eventstats.mv_failed_jobs TO eventstats_reader;

