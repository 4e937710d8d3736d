-- Up Migration
-- Compiled query job_status_trend (src/queries/job-status-trend.ts). Layout: see
-- src/queries/rollup.ts. null_mask bits: tenant_id 1, source_app 2, environment 4.
--   lvl 0: () — the whole topic, one row per minute, per hour and per day (the minutes keep the
--          raw edges of a read under a minute; at 10M jobs they are ~130k rows);
--   lvl 1: (tenant_id, source_app, environment) at hour and day grain.
CREATE MATERIALIZED VIEW eventstats.mv_job_status_trend AS
WITH minutely AS (
    SELECT r.timestamp_start - ((r.timestamp_start % 60000) + 60000) % 60000 AS bucket,
           r.tenant_id::text AS tenant_id, r.source_app::text AS source_app, r.environment::text AS environment,
           count(*) FILTER (WHERE lower(j.status) = 'succeeded') AS succeeded,
           count(*) FILTER (WHERE lower(j.status) = 'failed') AS failed,
           count(*) FILTER (WHERE lower(j.status) = 'killed') AS killed,
           count(*) FILTER (WHERE lower(j.status) = 'skipped') AS skipped,
           count(*) AS total
      FROM public_cps_za_runs r
      JOIN public_cps_za_runs_jobs j ON j.event_id = r.event_id
     WHERE r.timestamp_start IS NOT NULL
     GROUP BY 1, 2, 3, 4
),
hourly AS (
    SELECT bucket - ((bucket % 3600000) + 3600000) % 3600000 AS bucket, tenant_id, source_app, environment,
           sum(succeeded)::bigint AS succeeded, sum(failed)::bigint AS failed, sum(killed)::bigint AS killed,
           sum(skipped)::bigint AS skipped, sum(total)::bigint AS total
      FROM minutely
     GROUP BY 1, 2, 3, 4
),
grains AS (
    SELECT 3600000::bigint AS grain_ms UNION ALL SELECT 86400000
)
SELECT 1 AS lvl, g.grain_ms, h.bucket - ((h.bucket % g.grain_ms) + g.grain_ms) % g.grain_ms AS bucket, 0 AS null_mask,
       h.tenant_id, h.source_app, h.environment,
       sum(h.succeeded)::bigint AS succeeded, sum(h.failed)::bigint AS failed, sum(h.killed)::bigint AS killed,
       sum(h.skipped)::bigint AS skipped, sum(h.total)::bigint AS total
  FROM hourly h CROSS JOIN grains g
 GROUP BY 2, 3, 5, 6, 7
UNION ALL
SELECT 0, g.grain_ms, h.bucket - ((h.bucket % g.grain_ms) + g.grain_ms) % g.grain_ms, 7,
       '', '', '',
       sum(h.succeeded)::bigint, sum(h.failed)::bigint, sum(h.killed)::bigint, sum(h.skipped)::bigint, sum(h.total)::bigint
  FROM hourly h CROSS JOIN grains g
 GROUP BY 2, 3
UNION ALL
SELECT 0, 60000, bucket, 7,
       '', '', '',
       sum(succeeded)::bigint, sum(failed)::bigint, sum(killed)::bigint, sum(skipped)::bigint, sum(total)::bigint
  FROM minutely
 GROUP BY 3
WITH NO DATA;

CREATE UNIQUE INDEX mv_job_status_trend_key
    ON eventstats.mv_job_status_trend (lvl, grain_ms, bucket, null_mask, tenant_id, source_app, environment);
GRANT SELECT ON eventstats.mv_job_status_trend TO eventstats_reader;

-- Down Migration
DROP MATERIALIZED VIEW eventstats.mv_job_status_trend;
