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

-- Down Migration
DO $$
BEGIN
    EXECUTE format('REVOKE SELECT ON SEQUENCE %s FROM eventstats_reader', pg_get_serial_sequence('public_cps_za_runs_jobs', 'internal_id'));
END
$$;
REVOKE SELECT ON eventstats.orphan_jobs FROM eventstats_reader;
