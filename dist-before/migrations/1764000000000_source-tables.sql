-- Up Migration
-- The event gateway's tables, exactly as the upstream gateway defines them (names, columns, types).
-- IF NOT EXISTS: on a database the gateway already populated, this migration adopts its tables as they are.

-- Run header rows of the runs topic.
CREATE TABLE IF NOT EXISTS public_cps_za_runs (
    event_id           VARCHAR(255) NOT NULL,
    job_ref            VARCHAR(255) NOT NULL,
    tenant_id          VARCHAR(255) NOT NULL,
    source_app         VARCHAR(255) NOT NULL,
    source_app_version VARCHAR(255) NOT NULL,
    environment        VARCHAR(255) NOT NULL,
    timestamp_start    BIGINT,
    timestamp_end      BIGINT
);

-- One row per job of a run (per data catalog). status: succeeded / failed / killed / skipped.
CREATE TABLE IF NOT EXISTS public_cps_za_runs_jobs (
    internal_id     SERIAL PRIMARY KEY,
    event_id        VARCHAR(255) NOT NULL,
    country         VARCHAR(255),
    catalog_id      VARCHAR(255) NOT NULL,
    status          VARCHAR(50) NOT NULL,
    timestamp_start BIGINT,
    timestamp_end   BIGINT,
    message         TEXT,
    additional_info JSONB
);

-- Data lake change events.
CREATE TABLE IF NOT EXISTS public_cps_za_dlchange (
    event_id           VARCHAR(255) NOT NULL,
    tenant_id          VARCHAR(255) NOT NULL,
    source_app         VARCHAR(255) NOT NULL,
    source_app_version VARCHAR(255) NOT NULL,
    environment        VARCHAR(255) NOT NULL,
    timestamp_event    BIGINT,
    country            VARCHAR(255),
    catalog_id         VARCHAR(255) NOT NULL,
    operation          VARCHAR(255),
    "location"         TEXT,
    "format"           VARCHAR(255),
    format_options     JSONB,
    additional_info    JSONB
);

-- Test topic events.
CREATE TABLE IF NOT EXISTS public_cps_za_test (
    event_id        VARCHAR(255) NOT NULL,
    tenant_id       VARCHAR(255) NOT NULL,
    source_app      VARCHAR(255) NOT NULL,
    environment     VARCHAR(255) NOT NULL,
    timestamp_event BIGINT,
    additional_info JSONB
);

-- Latest status per job of the status-change topic.
CREATE TABLE IF NOT EXISTS public_cps_za_status_change_aggregated_job (
    job_id             UUID PRIMARY KEY,
    job_group_id       UUID,
    parent_job_id      UUID,
    initial_job_id     UUID,
    job_ref            TEXT,
    job_name           TEXT,
    definition_id      TEXT,
    definition_version TEXT,
    tenant_id          TEXT,
    country            TEXT,
    source_app         TEXT,
    source_app_version TEXT,
    environment        TEXT,
    platform           TEXT,
    platform_metadata  JSONB,
    input_arguments    JSONB,
    additional_context JSONB,
    attempt_number     INTEGER NOT NULL DEFAULT 1 CHECK (attempt_number > 0),
    status_type        TEXT CHECK (status_type IN ('WAITING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'KILLED')),
    status_subtype     TEXT,
    status_detail      TEXT,
    created_at         TIMESTAMPTZ,
    started_at         TIMESTAMPTZ,
    finished_at        TIMESTAMPTZ,
    last_updated_at    TIMESTAMPTZ NOT NULL
);

-- Window scans select runs by start time; the covering columns let partial-window edges read
-- the run side as an index-only scan.
CREATE INDEX IF NOT EXISTS public_cps_za_runs_timestamp_start_idx
    ON public_cps_za_runs (timestamp_start) INCLUDE (event_id, tenant_id, source_app, environment);
-- The join key, from both sides.
CREATE INDEX IF NOT EXISTS public_cps_za_runs_event_id_idx ON public_cps_za_runs (event_id);
CREATE INDEX IF NOT EXISTS public_cps_za_runs_jobs_event_id_idx ON public_cps_za_runs_jobs (event_id);
-- Keyset paging of the raw endpoint walks internal_id DESC: the primary key serves it.
CREATE INDEX IF NOT EXISTS public_cps_za_status_change_created_at_idx
    ON public_cps_za_status_change_aggregated_job (created_at);
-- The refresh change key of status-change views: the latest update, one index lookup.
CREATE INDEX IF NOT EXISTS public_cps_za_status_change_last_updated_at_idx
    ON public_cps_za_status_change_aggregated_job (last_updated_at);

-- Down Migration
DROP TABLE IF EXISTS public_cps_za_status_change_aggregated_job;
DROP TABLE IF EXISTS public_cps_za_test;
DROP TABLE IF EXISTS public_cps_za_dlchange;
DROP TABLE IF EXISTS public_cps_za_runs_jobs;
DROP TABLE IF EXISTS public_cps_za_runs;
