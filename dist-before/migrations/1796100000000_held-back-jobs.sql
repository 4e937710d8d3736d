-- Up Migration
-- A cycle no longer drains writers with a lock (src/maintenance/sources.ts): it reads the jobs
-- sequence's last value L, then the transactions holding ROW EXCLUSIVE on the jobs table (the
-- holders), before its snapshot. It absorbs every job its snapshot sees up to L, and remembers here
-- the ids up to L it could not see while some holder was still open: they may belong to a holder
-- that has not committed yet. Each id keeps the holders of the cycle that held it back; once none of
-- them holds the lock any more (checked before a later cycle's snapshot) an id still invisible was
-- rolled back or never used, and is dropped. Until a cycle absorbs it, a held-back job that has
-- committed is in every real-time read's tail, as an orphan job is.
CREATE TABLE eventstats.held_back_jobs (
    view_name   TEXT NOT NULL,
    internal_id BIGINT NOT NULL,
    -- pg_locks.virtualtransaction of the writers open when the id was held back.
    holders     TEXT[] NOT NULL,
    held_since  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (view_name, internal_id)
);
GRANT SELECT ON eventstats.held_back_jobs TO eventstats_reader;

-- The unabsorbed jobs of a view (migrations/1796040700000_realtime-reads.sql), and now also its
-- held-back jobs that have committed since (held_back, like the orphans: never cached as stable).
CREATE OR REPLACE FUNCTION eventstats.runs_unabsorbed(p_view text, p_after bigint, p_pending bigint[])
RETURNS TABLE (id bigint, held_back boolean, j public_cps_za_runs_jobs, r public_cps_za_runs)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    w bigint := coalesce((SELECT m.id_watermark FROM eventstats.maintenance m WHERE m.view_name = p_view), 9223372036854775807);
BEGIN
    RETURN QUERY
    SELECT u.internal_id::bigint, u.held_back, u.job, rr.run
      FROM (SELECT j1.internal_id, false AS held_back, j1 AS job FROM public_cps_za_runs_jobs j1
             WHERE j1.internal_id > greatest(w, p_after) AND j1.internal_id <= 9223372036854775807
            UNION ALL
            SELECT j3.internal_id, false, j3 FROM public_cps_za_runs_jobs j3 WHERE j3.internal_id = ANY(p_pending) AND j3.internal_id > w
            UNION ALL
            SELECT j2.internal_id, true, j2 FROM eventstats.orphan_jobs o JOIN public_cps_za_runs_jobs j2 ON j2.internal_id = o.internal_id
             WHERE o.view_name = p_view
            UNION ALL
            SELECT j4.internal_id, true, j4 FROM eventstats.held_back_jobs h JOIN public_cps_za_runs_jobs j4 ON j4.internal_id = h.internal_id
             -- Not before the view's first cycle (no watermark yet): a query's migration built its
             -- view from every job it saw, and the held-back ids of the view before it may be among them.
             WHERE h.view_name = p_view AND w < 9223372036854775807) u
      LEFT JOIN LATERAL (SELECT r0 AS run FROM public_cps_za_runs r0 WHERE r0.event_id = (u.job).event_id OFFSET 0) rr ON true;
END
$$;

-- Down Migration
CREATE OR REPLACE FUNCTION eventstats.runs_unabsorbed(p_view text, p_after bigint, p_pending bigint[])
RETURNS TABLE (id bigint, held_back boolean, j public_cps_za_runs_jobs, r public_cps_za_runs)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    w bigint := coalesce((SELECT m.id_watermark FROM eventstats.maintenance m WHERE m.view_name = p_view), 9223372036854775807);
BEGIN
    RETURN QUERY
    SELECT u.internal_id::bigint, u.held_back, u.job, rr.run
      FROM (SELECT j1.internal_id, false AS held_back, j1 AS job FROM public_cps_za_runs_jobs j1
             WHERE j1.internal_id > greatest(w, p_after) AND j1.internal_id <= 9223372036854775807
            UNION ALL
            SELECT j3.internal_id, false, j3 FROM public_cps_za_runs_jobs j3 WHERE j3.internal_id = ANY(p_pending) AND j3.internal_id > w
            UNION ALL
            SELECT j2.internal_id, true, j2 FROM eventstats.orphan_jobs o JOIN public_cps_za_runs_jobs j2 ON j2.internal_id = o.internal_id
             WHERE o.view_name = p_view) u
      LEFT JOIN LATERAL (SELECT r0 AS run FROM public_cps_za_runs r0 WHERE r0.event_id = (u.job).event_id OFFSET 0) rr ON true;
END
$$;
DROP TABLE eventstats.held_back_jobs;
