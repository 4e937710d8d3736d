-- Up Migration
-- A group role for the API: SELECT only. Operators grant it to the API's login user
-- (GRANT eventstats_reader TO eventstats_api). Roles are cluster-wide, so it may already exist.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'eventstats_reader') THEN
        CREATE ROLE eventstats_reader NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO eventstats_reader;
GRANT SELECT ON public_cps_za_runs, public_cps_za_runs_jobs, public_cps_za_dlchange,
    public_cps_za_test, public_cps_za_status_change_aggregated_job TO eventstats_reader;

-- Down Migration
REVOKE SELECT ON public_cps_za_runs, public_cps_za_runs_jobs, public_cps_za_dlchange,
    public_cps_za_test, public_cps_za_status_change_aggregated_job FROM eventstats_reader;
REVOKE USAGE ON SCHEMA public FROM eventstats_reader;
