-- Up Migration
-- The trigger functions run as their owner (SECURITY DEFINER) on the gateway writers' statements.
-- Their search_path did not name pg_temp, and PostgreSQL then searches the session's temporary
-- schema FIRST: a writer's temporary table named public_cps_za_runs shadowed the table
-- jobs_changed() reads, in a function running with the owner's rights. Each now sets
-- search_path = pg_catalog, public, pg_temp (the temporary schema last) and names every table with
-- its schema, so neither a temporary table nor anything else on a path can stand in for one.
-- Bodies are as before otherwise.
CREATE OR REPLACE FUNCTION eventstats.runs_changed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    INSERT INTO eventstats.invalidations (view_name, from_ms)
    SELECT m.view_name, d.day
      FROM (SELECT DISTINCT timestamp_start - ((timestamp_start % 86400000) + 86400000) % 86400000 AS day
              FROM changed_rows WHERE timestamp_start IS NOT NULL) d
     CROSS JOIN eventstats.maintenance m
     WHERE m.source = 'runs';
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION eventstats.jobs_changed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    INSERT INTO eventstats.invalidations (view_name, from_ms)
    SELECT m.view_name, d.day
      FROM (SELECT DISTINCT r.timestamp_start - ((r.timestamp_start % 86400000) + 86400000) % 86400000 AS day
              FROM (SELECT DISTINCT event_id FROM changed_rows) c
              JOIN public.public_cps_za_runs r ON r.event_id = c.event_id
             WHERE r.timestamp_start IS NOT NULL) d
     CROSS JOIN eventstats.maintenance m
     WHERE m.source = 'runs';
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION eventstats.source_truncated() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    UPDATE eventstats.maintenance SET rebuild_requested = true WHERE source = TG_ARGV[0];
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION eventstats.jobs_deleted() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF (SELECT count(*) FROM changed_rows) > eventstats.deleted_facts_limit() THEN
        PERFORM eventstats.invalidate_days(ARRAY(
            SELECT r.timestamp_start FROM (SELECT DISTINCT event_id FROM changed_rows) c JOIN public.public_cps_za_runs r ON r.event_id = c.event_id));
        RETURN NULL;
    END IF;
    INSERT INTO eventstats.deleted_facts (view_name, internal_id, run, job)
    SELECT m.view_name, c.internal_id, to_jsonb(r), to_jsonb(c)
      FROM changed_rows c
      JOIN public.public_cps_za_runs r ON r.event_id = c.event_id
     CROSS JOIN eventstats.maintenance m
     WHERE m.source = 'runs';
    RETURN NULL;
END $$;

-- Down Migration
CREATE OR REPLACE FUNCTION eventstats.runs_changed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
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

CREATE OR REPLACE FUNCTION eventstats.jobs_changed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
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

CREATE OR REPLACE FUNCTION eventstats.source_truncated() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE eventstats.maintenance SET rebuild_requested = true WHERE source = TG_ARGV[0];
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION eventstats.jobs_deleted() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF (SELECT count(*) FROM changed_rows) > eventstats.deleted_facts_limit() THEN
        PERFORM eventstats.invalidate_days(ARRAY(
            SELECT r.timestamp_start FROM (SELECT DISTINCT event_id FROM changed_rows) c JOIN public_cps_za_runs r ON r.event_id = c.event_id));
        RETURN NULL;
    END IF;
    INSERT INTO eventstats.deleted_facts (view_name, internal_id, run, job)
    SELECT m.view_name, c.internal_id, to_jsonb(r), to_jsonb(c)
      FROM changed_rows c
      JOIN public_cps_za_runs r ON r.event_id = c.event_id
     CROSS JOIN eventstats.maintenance m
     WHERE m.source = 'runs';
    RETURN NULL;
END $$;
