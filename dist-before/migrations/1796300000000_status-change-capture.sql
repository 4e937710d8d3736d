-- Up Migration
-- Status changes are found without a function call on the gateway's upsert path (issue 25;
-- docs/ARCHITECTURE.md "Maintenance", status_change). A cycle finds the rows changed since its last
-- one through the last_updated_at index: every row with last_updated_at at or after the view's
-- capture bound (eventstats.maintenance.capture, kept by src/maintenance/status-capture.ts), and
-- recomputes from the base table the buckets of their created_at. That finds every row version
-- whose last_updated_at is at least its write's clock minus 5 minutes (the gateway's upsert of an
-- event that arrives on time). The INSERT and UPDATE triggers now record only what that scan may
-- miss, into eventstats.status_change_deltas as before (the function is unchanged):
--   - a version whose last_updated_at is older than the write's clock minus 5 minutes (a late or
--     replayed event; an upsert of an old row whose last_updated_at the gateway's greatest(...)
--     leaves where it was);
--   - an update that moves created_at (its old bucket is nowhere else).
-- clock_timestamp() is the row's own write time, after its statement took ROW EXCLUSIVE on the
-- table, which is what the scan's bound is reasoned from. The WHEN clause costs the upsert path an
-- expression, not a call. The 5 minutes are STATUS_CAPTURE_MARGIN_MS in status-capture.ts (a test
-- compares them). DELETE and TRUNCATE keep their triggers (the gateway's upsert path runs neither).
DROP TRIGGER eventstats_status_change_inserted ON public_cps_za_status_change_aggregated_job;
DROP TRIGGER eventstats_status_change_updated ON public_cps_za_status_change_aggregated_job;
CREATE TRIGGER eventstats_status_change_inserted AFTER INSERT ON public_cps_za_status_change_aggregated_job
    FOR EACH ROW
    WHEN (NEW.created_at IS NOT NULL AND NEW.last_updated_at < clock_timestamp() - interval '5 minutes')
    EXECUTE FUNCTION eventstats.status_change_changed();
CREATE TRIGGER eventstats_status_change_updated AFTER UPDATE ON public_cps_za_status_change_aggregated_job
    FOR EACH ROW
    WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at
          OR ((OLD.tenant_id, OLD.source_app, OLD.environment, OLD.country, OLD.status_type)
                IS DISTINCT FROM (NEW.tenant_id, NEW.source_app, NEW.environment, NEW.country, NEW.status_type)
              AND NEW.last_updated_at < clock_timestamp() - interval '5 minutes'))
    EXECUTE FUNCTION eventstats.status_change_changed();

-- The capture's state per view of the status_change source (NULL: not known, the next cycle scans
-- every row once): {"readAtUs": the clock read before the last cycle's snapshot, "fromUs": the
-- next scan's bound, "holders": {virtual transaction: lower bound of its writes' clock, or null}},
-- times in microseconds since the epoch. Every writer that takes the table's lock from here on
-- waited for this migration (DROP TRIGGER conflicts with ROW EXCLUSIVE), and the old triggers
-- recorded everything before it: the bound starts at this clock minus the margin.
ALTER TABLE eventstats.maintenance ADD COLUMN capture JSONB;
UPDATE eventstats.maintenance
   SET capture = jsonb_build_object(
         'readAtUs', (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
         'fromUs', (extract(epoch FROM clock_timestamp() - interval '5 minutes') * 1000000)::bigint,
         'holders', '{}'::jsonb)
 WHERE source = 'status_change';

-- Down Migration
-- The full triggers again; changes made meanwhile that no trigger recorded are recovered by a
-- rebuild of the views of the source.
ALTER TABLE eventstats.maintenance DROP COLUMN capture;
UPDATE eventstats.maintenance SET rebuild_requested = true WHERE source = 'status_change';
DROP TRIGGER eventstats_status_change_updated ON public_cps_za_status_change_aggregated_job;
DROP TRIGGER eventstats_status_change_inserted ON public_cps_za_status_change_aggregated_job;
CREATE TRIGGER eventstats_status_change_inserted AFTER INSERT ON public_cps_za_status_change_aggregated_job
    FOR EACH ROW EXECUTE FUNCTION eventstats.status_change_changed();
CREATE TRIGGER eventstats_status_change_updated AFTER UPDATE ON public_cps_za_status_change_aggregated_job
    FOR EACH ROW
    WHEN ((OLD.created_at, OLD.tenant_id, OLD.source_app, OLD.environment, OLD.country, OLD.status_type)
          IS DISTINCT FROM (NEW.created_at, NEW.tenant_id, NEW.source_app, NEW.environment, NEW.country, NEW.status_type))
    EXECUTE FUNCTION eventstats.status_change_changed();
