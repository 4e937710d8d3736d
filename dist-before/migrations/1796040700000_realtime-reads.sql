-- Up Migration
-- Real-time reads (src/queries/tail.ts) add the jobs history and the views have not absorbed yet:
-- those past a view's id watermark, and the orphan jobs held back for a run that may have come
-- since. The API's role reads the latter too, and the jobs sequence's last value (the stable id a
-- process caches its tails up to: src/queries/stable-ids.ts).
GRANT SELECT ON eventstats.orphan_jobs TO eventstats_reader;
DO $$
BEGIN
    EXECUTE format('GRANT SELECT ON SEQUENCE %s TO eventstats_reader', pg_get_serial_sequence('public_cps_za_runs_jobs', 'internal_id'));
END
$$;

-- The unabsorbed jobs of a view, each with its run (NULL while it has not come): past the view's
-- watermark and past `p_after` (a range of the primary key), the `p_pending` ones (past the watermark,
-- at or below `p_after`), and the view's orphans (held_back). A PL/pgSQL function, so that a session
-- plans this once and not on every read (planning it in the read's statement cost 1-3 ms at 10M
-- jobs, more than reading a minute of writes); the shape of the plan suits every call: few rows,
-- probed by key.
CREATE FUNCTION eventstats.runs_unabsorbed(p_view text, p_after bigint, p_pending bigint[])
RETURNS TABLE (id bigint, held_back boolean, j public_cps_za_runs_jobs, r public_cps_za_runs)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
-- The plan that suits every call (a key range, probes by key), kept: custom plans would be planned
-- again on every call (their estimates for a parameter's range look cheaper than the generic one's).
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

-- Down Migration
DROP FUNCTION eventstats.runs_unabsorbed(text, bigint, bigint[]);
DO $$
BEGIN
    EXECUTE format('REVOKE SELECT ON SEQUENCE %s FROM eventstats_reader', pg_get_serial_sequence('public_cps_za_runs_jobs', 'internal_id'));
END
$$;
REVOKE SELECT ON eventstats.orphan_jobs FROM eventstats_reader;
