-- Up Migration
-- A changed status-change row is recorded as ONE row per view, its old and new versions side by side
-- (the old side empty for an INSERT, the new side for a DELETE), where it was two signed rows; and
-- the table has no index (a cycle reads all of a view's rows, which are few). Half the rows and no
-- index entry per upsert: what the gateway's status upserts pay for the trigger
-- (docs/BENCHMARKS.md). The cycle turns each row back into -1 (old) and +1 (new) facts
-- (src/maintenance/sources.ts). The table keeps its name, which the generated query migrations use.
ALTER TABLE eventstats.status_change_deltas RENAME TO status_change_deltas_signed;
CREATE TABLE eventstats.status_change_deltas (
    view_name           TEXT NOT NULL,
    old_created_at      TIMESTAMPTZ,
    old_tenant_id       TEXT,
    old_source_app      TEXT,
    old_environment     TEXT,
    old_country         TEXT,
    old_status_type     TEXT,
    new_created_at      TIMESTAMPTZ,
    new_tenant_id       TEXT,
    new_source_app      TEXT,
    new_environment     TEXT,
    new_country         TEXT,
    new_status_type     TEXT
);
INSERT INTO eventstats.status_change_deltas
SELECT view_name,
       created_at, tenant_id, source_app, environment, country, status_type,
       NULL, NULL, NULL, NULL, NULL, NULL
  FROM eventstats.status_change_deltas_signed, generate_series(1, -weight)
 WHERE weight < 0
UNION ALL
SELECT view_name,
       NULL, NULL, NULL, NULL, NULL, NULL,
       created_at, tenant_id, source_app, environment, country, status_type
  FROM eventstats.status_change_deltas_signed, generate_series(1, weight)
 WHERE weight > 0;
DROP TABLE eventstats.status_change_deltas_signed;

CREATE OR REPLACE FUNCTION eventstats.status_change_changed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    -- A version without created_at is no fact: nothing to record for it.
    IF TG_OP = 'UPDATE' AND (OLD.created_at IS NOT NULL OR NEW.created_at IS NOT NULL) THEN
        INSERT INTO eventstats.status_change_deltas
        SELECT m.view_name,
               OLD.created_at, OLD.tenant_id, OLD.source_app, OLD.environment, OLD.country, OLD.status_type,
               NEW.created_at, NEW.tenant_id, NEW.source_app, NEW.environment, NEW.country, NEW.status_type
          FROM eventstats.maintenance m WHERE m.source = 'status_change';
    ELSIF TG_OP = 'INSERT' AND NEW.created_at IS NOT NULL THEN
        INSERT INTO eventstats.status_change_deltas (view_name, new_created_at, new_tenant_id, new_source_app, new_environment, new_country, new_status_type)
        SELECT m.view_name, NEW.created_at, NEW.tenant_id, NEW.source_app, NEW.environment, NEW.country, NEW.status_type
          FROM eventstats.maintenance m WHERE m.source = 'status_change';
    ELSIF TG_OP = 'DELETE' AND OLD.created_at IS NOT NULL THEN
        INSERT INTO eventstats.status_change_deltas (view_name, old_created_at, old_tenant_id, old_source_app, old_environment, old_country, old_status_type)
        SELECT m.view_name, OLD.created_at, OLD.tenant_id, OLD.source_app, OLD.environment, OLD.country, OLD.status_type
          FROM eventstats.maintenance m WHERE m.source = 'status_change';
    END IF;
    RETURN NULL;
END $$;

-- Down Migration
ALTER TABLE eventstats.status_change_deltas RENAME TO status_change_deltas_paired;
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
INSERT INTO eventstats.status_change_deltas
SELECT view_name, -1, old_created_at, old_tenant_id, old_source_app, old_environment, old_country, old_status_type
  FROM eventstats.status_change_deltas_paired WHERE old_created_at IS NOT NULL
UNION ALL
SELECT view_name, 1, new_created_at, new_tenant_id, new_source_app, new_environment, new_country, new_status_type
  FROM eventstats.status_change_deltas_paired WHERE new_created_at IS NOT NULL;
DROP TABLE eventstats.status_change_deltas_paired;

CREATE OR REPLACE FUNCTION eventstats.status_change_changed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
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
