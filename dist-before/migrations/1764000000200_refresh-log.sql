-- Up Migration
-- EventStats' own state lives in its own schema, apart from the gateway's tables.
CREATE SCHEMA IF NOT EXISTS eventstats;

-- One row per refresh attempt of a materialized view. The latest 'refreshed' row of a view is its
-- freshness; 'skipped' rows prove the source was checked and had not changed.
CREATE TABLE eventstats.refresh_log (
    id          BIGSERIAL PRIMARY KEY,
    view_name   TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    duration_ms INTEGER,
    outcome     TEXT NOT NULL CHECK (outcome IN ('refreshed', 'skipped', 'failed')),
    error       TEXT,
    watermark   TEXT
);
CREATE INDEX refresh_log_view_outcome_idx ON eventstats.refresh_log (view_name, outcome, id DESC);
CREATE INDEX refresh_log_view_idx ON eventstats.refresh_log (view_name, id DESC);

GRANT USAGE ON SCHEMA eventstats TO eventstats_reader;
GRANT SELECT ON eventstats.refresh_log TO eventstats_reader;

-- Down Migration
DROP TABLE eventstats.refresh_log;
DROP SCHEMA IF EXISTS eventstats;
