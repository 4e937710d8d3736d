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

-- Status changes: the old version counts -1, the new one +1. Row-level triggers: the gateway upserts
-- one row per statement, and a row trigger's WHEN clause skips, without calling any function, an
-- upsert that changes nothing a view reads (only last_updated_at, say); statement-level triggers
-- with transition tables cost that path 13-32% (docs/BENCHMARKS.md).
CREATE FUNCTION eventstats.status_change_changed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.created_at IS NOT NULL THEN
        INSERT INTO eventstats.status_change_deltas (view_name, weight, created_at, tenant_id, source_app, environment, country, status_type)
        SELECT m.view_name, -1, OLD.created_at, OLD.tenant_id, OLD.source_app, OLD.environment, OLD.country, OLD.status_type
          FROM eventstats.maintenance m WHERE m.source = 'status_change';
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.created_at IS NOT NULL THEN
        INSERT INTO eventstats.status_change_deltas (view_name, weight, created_at, tenant_id, source_app, environment, country, status_type)
        SELECT m.view_name, 1, NEW.created_at, NEW.tenant_id, NEW.source_app, NEW.environment, NEW.country, NEW.status_type
          FROM eventstats.maintenance m WHERE m.source = 'status_change';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER eventstats_status_change_inserted AFTER INSERT ON public_cps_za_status_change_aggregated_job
    FOR EACH ROW EXECUTE FUNCTION eventstats.status_change_changed();
CREATE TRIGGER eventstats_status_change_updated AFTER UPDATE ON public_cps_za_status_change_aggregated_job
    FOR EACH ROW
    WHEN ((OLD.created_at, OLD.tenant_id, OLD.source_app, OLD.environment, OLD.country, OLD.status_type)
          IS DISTINCT FROM (NEW.created_at, NEW.tenant_id, NEW.source_app, NEW.environment, NEW.country, NEW.status_type))
    EXECUTE FUNCTION eventstats.status_change_changed();
CREATE TRIGGER eventstats_status_change_deleted AFTER DELETE ON public_cps_za_status_change_aggregated_job
    FOR EACH ROW EXECUTE FUNCTION eventstats.status_change_changed();

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
DROP FUNCTION eventstats.status_change_changed();
DROP FUNCTION eventstats.source_truncated();
DROP FUNCTION eventstats.jobs_changed();
DROP FUNCTION eventstats.runs_changed();
ALTER TABLE eventstats.refresh_log DROP COLUMN detail;
DROP TABLE eventstats.status_change_deltas;
DROP TABLE eventstats.invalidations;
DROP TABLE eventstats.orphan_jobs;
DROP TABLE eventstats.maintenance;
