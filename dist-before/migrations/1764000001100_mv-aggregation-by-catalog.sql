-- Up Migration
-- Compiled query aggregation_by_catalog (src/queries/aggregation-by-catalog.ts). Layout: see
-- src/queries/rollup.ts. null_mask bits: tenant_id 1, source_app 2, catalog_id 4.
--   lvl 0: (tenant_id, source_app, catalog_id) at day grain — the catalog table, also filterable
--          by tenant and pipeline (a catalog belongs to one pipeline, so this is ~one row per
--          catalog and day).
-- An hour grain, or environment/country as dimensions, would hold about as many rows as there are
-- jobs; those reads and the partial days at the window's edges come from the base tables.
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

-- Down Migration
DROP MATERIALIZED VIEW eventstats.mv_aggregation_by_catalog;
