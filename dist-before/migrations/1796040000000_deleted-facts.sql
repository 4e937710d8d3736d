-- Up Migration
-- A small delete of jobs (a retention job's stray rows, a repair) no longer re-aggregates whole UTC
-- days: the jobs' DELETE trigger keeps the facts that disappeared (each job with its run, as they
-- were, per view of the runs source), and a cycle recomputes only the buckets they fell in (their
-- day and each level's dimension values) from the base tables (src/maintenance/sources.ts). The
-- kept facts only say WHERE to recompute, never what to subtract, so a fact kept twice (a run and
-- its job deleted by two transactions at once) or one that history never counted (a run inserted
-- again, a duplicate run) cannot make a count wrong. A statement that deletes more jobs than
-- eventstats.deleted_facts_limit (a setting, 1000 unless a session sets it) records its UTC days,
-- as before: a large delete usually empties whole days, which are then cheap to recompute. Deleted
-- runs keep recording their days (a job whose run is gone is no fact, wherever its run's day was).

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

DROP TRIGGER eventstats_jobs_deleted ON public_cps_za_runs_jobs;
CREATE TRIGGER eventstats_jobs_deleted AFTER DELETE ON public_cps_za_runs_jobs
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION eventstats.jobs_deleted();

-- Down Migration
DROP TRIGGER eventstats_jobs_deleted ON public_cps_za_runs_jobs;
CREATE TRIGGER eventstats_jobs_deleted AFTER DELETE ON public_cps_za_runs_jobs
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION eventstats.jobs_changed();
-- Facts not applied yet become their days, as the old triggers would have recorded them.
INSERT INTO eventstats.invalidations (view_name, from_ms)
SELECT DISTINCT view_name, t - ((t % 86400000) + 86400000) % 86400000
  FROM (SELECT view_name, (run->>'timestamp_start')::bigint AS t FROM eventstats.deleted_facts) d
 WHERE t IS NOT NULL;
DROP FUNCTION eventstats.jobs_deleted();
DROP FUNCTION eventstats.invalidate_days(bigint[]);
DROP FUNCTION eventstats.deleted_facts_limit();
DROP TABLE eventstats.deleted_facts;
