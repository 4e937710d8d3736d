-- Up Migration
-- A small delete (a retention job's stray rows, a repair) no longer re-aggregates whole UTC days:
-- the delete triggers keep the facts that disappeared (the deleted jobs with their runs, or the
-- deleted runs with their jobs), as they were, per view of the runs source. A cycle then subtracts
-- them from history (a query whose measures are all sums) or recomputes only the buckets they fell
-- in (src/maintenance/sources.ts). A statement that deletes more facts than
-- eventstats.deleted_facts_limit (a setting, 1000 unless a session sets it) records its UTC days, as
-- before: a large delete usually empties whole days, which are then cheap to recompute.

CREATE TABLE eventstats.deleted_facts (
    view_name   TEXT NOT NULL,
    internal_id BIGINT NOT NULL,
    run         JSONB NOT NULL,
    job         JSONB NOT NULL
);

CREATE FUNCTION eventstats.deleted_facts_limit() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('eventstats.deleted_facts_limit', true), '')::bigint, 1000)
$$;

-- The UTC days (epoch ms of their start) of these fact times, recorded for every view of the runs
-- source, as eventstats.runs_changed() and jobs_changed() record them.
CREATE FUNCTION eventstats.invalidate_days(fact_times bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO eventstats.invalidations (view_name, from_ms)
    SELECT m.view_name, d.day
      FROM (SELECT DISTINCT t - ((t % 86400000) + 86400000) % 86400000 AS day FROM unnest(fact_times) t WHERE t IS NOT NULL) d
     CROSS JOIN eventstats.maintenance m
     WHERE m.source = 'runs'
$$;

CREATE FUNCTION eventstats.jobs_deleted() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
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

CREATE FUNCTION eventstats.runs_deleted() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public AS $$
DECLARE
    facts bigint;
BEGIN
    -- Counted only up to the limit: a large delete is not joined twice.
    SELECT count(*) INTO facts FROM (
        SELECT 1 FROM changed_rows c JOIN public_cps_za_runs_jobs j ON j.event_id = c.event_id
         LIMIT eventstats.deleted_facts_limit() + 1) x;
    IF facts > eventstats.deleted_facts_limit() THEN
        PERFORM eventstats.invalidate_days(ARRAY(SELECT timestamp_start FROM changed_rows));
        RETURN NULL;
    END IF;
    INSERT INTO eventstats.deleted_facts (view_name, internal_id, run, job)
    SELECT m.view_name, j.internal_id, to_jsonb(c), to_jsonb(j)
      FROM changed_rows c
      JOIN public_cps_za_runs_jobs j ON j.event_id = c.event_id
     CROSS JOIN eventstats.maintenance m
     WHERE m.source = 'runs';
    RETURN NULL;
END $$;

DROP TRIGGER eventstats_runs_deleted ON public_cps_za_runs;
DROP TRIGGER eventstats_jobs_deleted ON public_cps_za_runs_jobs;
CREATE TRIGGER eventstats_runs_deleted AFTER DELETE ON public_cps_za_runs
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION eventstats.runs_deleted();
CREATE TRIGGER eventstats_jobs_deleted AFTER DELETE ON public_cps_za_runs_jobs
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION eventstats.jobs_deleted();

-- Down Migration
DROP TRIGGER eventstats_jobs_deleted ON public_cps_za_runs_jobs;
DROP TRIGGER eventstats_runs_deleted ON public_cps_za_runs;
CREATE TRIGGER eventstats_runs_deleted AFTER DELETE ON public_cps_za_runs
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION eventstats.runs_changed();
CREATE TRIGGER eventstats_jobs_deleted AFTER DELETE ON public_cps_za_runs_jobs
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION eventstats.jobs_changed();
-- Facts not applied yet become their days, as the old triggers would have recorded them.
INSERT INTO eventstats.invalidations (view_name, from_ms)
SELECT DISTINCT view_name, t - ((t % 86400000) + 86400000) % 86400000
  FROM (SELECT view_name, (run->>'timestamp_start')::bigint AS t FROM eventstats.deleted_facts) d
 WHERE t IS NOT NULL;
DROP FUNCTION eventstats.runs_deleted();
DROP FUNCTION eventstats.jobs_deleted();
DROP FUNCTION eventstats.invalidate_days(bigint[]);
DROP FUNCTION eventstats.deleted_facts_limit();
DROP TABLE eventstats.deleted_facts;
