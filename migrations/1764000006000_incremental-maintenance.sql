-- Up Migration
-- Incremental maintenance (src/maintenance/, docs/ARCHITECTURE.md "Maintenance"): the state of each
-- query's materialization, and exact records of what changed underneath its sealed buckets. The
-- queries' own tables and views come from their generated migrations, which follow this one.

-- One row per view. sealed_to: history holds every fact before it (NULL: nothing sealed, the view
-- holds everything). fine_from: recent-tier grains exist from this day on. id_watermark (runs): every
-- job with an internal_id up to it is counted.
CREATE TABLE eventstats.maintenance (
    view_name         TEXT PRIMARY KEY,
    source            TEXT NOT NULL CHECK (source IN ('runs', 'status_change')),
    sealed_to         BIGINT,
    fine_from         BIGINT NOT NULL,
    id_watermark      BIGINT,
    rebuild_requested BOOLEAN NOT NULL DEFAULT false,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Jobs counted by id whose run has not arrived yet: probed again every cycle.
CREATE TABLE eventstats.orphan_jobs (
    view_name   TEXT NOT NULL,
    internal_id BIGINT NOT NULL,
    PRIMARY KEY (view_name, internal_id)
);

-- UTC days (epoch ms of their start) of runs or jobs deleted or updated: re-aggregated by the next cycle.
CREATE TABLE eventstats.invalidations (
    view_name TEXT NOT NULL,
    from_ms   BIGINT NOT NULL
);
CREATE INDEX invalidations_view_idx ON eventstats.invalidations (view_name);

-- Signed versions of changed status-change rows (-1 old, +1 new), per view, until a cycle applies them.
CREATE TABLE eventstats.status_change_deltas (
    view_name   TEXT NOT NULL,
    weight      INTEGER NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    tenant_id   TEXT,
    source_app  TEXT,
    environment TEXT,
    country     TEXT,
    status_type TEXT
);
CREATE INDEX status_change_deltas_view_idx ON eventstats.status_change_deltas (view_name);

-- What each cycle did (rebuild, sealed range, delta rows, re-aggregated days, orphans).
ALTER TABLE eventstats.refresh_log ADD COLUMN detail JSONB;

GRANT SELECT ON eventstats.maintenance TO eventstats_reader;

-- The triggers run as their owner (SECURITY DEFINER), so the gateway's writers need no rights on
-- the eventstats schema. None fires on INSERT into runs or jobs: the gateway's insert path is not touched.
CREATE FUNCTION eventstats.runs_changed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO eventstats.invalidations (view_name, from_ms)
    SELECT m.view_name, d.day
      FROM (SELECT DISTINCT timestamp_start - ((timestamp_start % 86400000) + 86400000) % 86400000 AS day
              FROM changed_rows WHERE timestamp_start IS NOT NULL) d
     CROSS JOIN eventstats.maintenance m
     WHERE m.source = 'runs';
    RETURN NULL;
END $$;

CREATE FUNCTION eventstats.jobs_changed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO eventstats.invalidations (view_name, from_ms)
    SELECT m.view_name, d.day
      FROM (SELECT DISTINCT r.timestamp_start - ((r.timestamp_start % 86400000) + 86400000) % 86400000 AS day
              FROM (SELECT DISTINCT event_id FROM changed_rows) c
              JOIN public_cps_za_runs r ON r.event_id = c.event_id
             WHERE r.timestamp_start IS NOT NULL) d
     CROSS JOIN eventstats.maintenance m
     WHERE m.source = 'runs';
    RETURN NULL;
END $$;

CREATE TRIGGER eventstats_runs_deleted AFTER DELETE ON public_cps_za_runs
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION eventstats.runs_changed();
CREATE TRIGGER eventstats_runs_updated_old AFTER UPDATE ON public_cps_za_runs
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION eventstats.runs_changed();
CREATE TRIGGER eventstats_runs_updated_new AFTER UPDATE ON public_cps_za_runs
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION eventstats.runs_changed();
CREATE TRIGGER eventstats_jobs_deleted AFTER DELETE ON public_cps_za_runs_jobs
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION eventstats.jobs_changed();
CREATE TRIGGER eventstats_jobs_updated_old AFTER UPDATE ON public_cps_za_runs_jobs
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION eventstats.jobs_changed();
CREATE TRIGGER eventstats_jobs_updated_new AFTER UPDATE ON public_cps_za_runs_jobs
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION eventstats.jobs_changed();

-- A TRUNCATE (and reload) asks every view of the source for a rebuild.
CREATE FUNCTION eventstats.source_truncated() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE eventstats.maintenance SET rebuild_requested = true WHERE source = TG_ARGV[0];
    RETURN NULL;
END $$;
CREATE TRIGGER eventstats_runs_truncated AFTER TRUNCATE ON public_cps_za_runs
    FOR EACH STATEMENT EXECUTE FUNCTION eventstats.source_truncated('runs');
CREATE TRIGGER eventstats_jobs_truncated AFTER TRUNCATE ON public_cps_za_runs_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION eventstats.source_truncated('runs');
CREATE TRIGGER eventstats_status_change_truncated AFTER TRUNCATE ON public_cps_za_status_change_aggregated_job
    FOR EACH STATEMENT EXECUTE FUNCTION eventstats.source_truncated('status_change');

-- Status changes: the old versions count -1, the new +1; a pair that changes nothing a view reads cancels out.
CREATE FUNCTION eventstats.status_change_changed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO eventstats.status_change_deltas (view_name, weight, created_at, tenant_id, source_app, environment, country, status_type)
    SELECT m.view_name, c.weight, c.created_at, c.tenant_id, c.source_app, c.environment, c.country, c.status_type
      FROM (SELECT created_at, tenant_id, source_app, environment, country, status_type, sum(weight)::int AS weight
              FROM (SELECT -1 AS weight, created_at, tenant_id, source_app, environment, country, status_type FROM old_rows
                    UNION ALL
                    SELECT 1, created_at, tenant_id, source_app, environment, country, status_type FROM new_rows) v
             WHERE created_at IS NOT NULL
             GROUP BY 1, 2, 3, 4, 5, 6
            HAVING sum(weight) <> 0) c
     CROSS JOIN eventstats.maintenance m
     WHERE m.source = 'status_change';
    RETURN NULL;
END $$;
-- INSERT and DELETE have one transition table each; an empty one stands in for the other.
CREATE FUNCTION eventstats.status_change_inserted() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO eventstats.status_change_deltas (view_name, weight, created_at, tenant_id, source_app, environment, country, status_type)
    SELECT m.view_name, 1, n.created_at, n.tenant_id, n.source_app, n.environment, n.country, n.status_type
      FROM new_rows n CROSS JOIN eventstats.maintenance m
     WHERE m.source = 'status_change' AND n.created_at IS NOT NULL;
    RETURN NULL;
END $$;
CREATE FUNCTION eventstats.status_change_deleted() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO eventstats.status_change_deltas (view_name, weight, created_at, tenant_id, source_app, environment, country, status_type)
    SELECT m.view_name, -1, o.created_at, o.tenant_id, o.source_app, o.environment, o.country, o.status_type
      FROM old_rows o CROSS JOIN eventstats.maintenance m
     WHERE m.source = 'status_change' AND o.created_at IS NOT NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER eventstats_status_change_inserted AFTER INSERT ON public_cps_za_status_change_aggregated_job
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eventstats.status_change_inserted();
CREATE TRIGGER eventstats_status_change_updated AFTER UPDATE ON public_cps_za_status_change_aggregated_job
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION eventstats.status_change_changed();
CREATE TRIGGER eventstats_status_change_deleted AFTER DELETE ON public_cps_za_status_change_aggregated_job
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION eventstats.status_change_deleted();

-- Down Migration
DROP TRIGGER eventstats_status_change_deleted ON public_cps_za_status_change_aggregated_job;
DROP TRIGGER eventstats_status_change_updated ON public_cps_za_status_change_aggregated_job;
DROP TRIGGER eventstats_status_change_inserted ON public_cps_za_status_change_aggregated_job;
DROP TRIGGER eventstats_status_change_truncated ON public_cps_za_status_change_aggregated_job;
DROP TRIGGER eventstats_jobs_truncated ON public_cps_za_runs_jobs;
DROP TRIGGER eventstats_runs_truncated ON public_cps_za_runs;
DROP TRIGGER eventstats_jobs_updated_new ON public_cps_za_runs_jobs;
DROP TRIGGER eventstats_jobs_updated_old ON public_cps_za_runs_jobs;
DROP TRIGGER eventstats_jobs_deleted ON public_cps_za_runs_jobs;
DROP TRIGGER eventstats_runs_updated_new ON public_cps_za_runs;
DROP TRIGGER eventstats_runs_updated_old ON public_cps_za_runs;
DROP TRIGGER eventstats_runs_deleted ON public_cps_za_runs;
DROP FUNCTION eventstats.status_change_deleted();
DROP FUNCTION eventstats.status_change_inserted();
DROP FUNCTION eventstats.status_change_changed();
DROP FUNCTION eventstats.source_truncated();
DROP FUNCTION eventstats.jobs_changed();
DROP FUNCTION eventstats.runs_changed();
ALTER TABLE eventstats.refresh_log DROP COLUMN detail;
DROP TABLE eventstats.status_change_deltas;
DROP TABLE eventstats.invalidations;
DROP TABLE eventstats.orphan_jobs;
DROP TABLE eventstats.maintenance;
