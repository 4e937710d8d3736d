-- Up Migration
-- The pg-boss queues of the refresh worker: one per materialized view, named 'refresh.<view>'
-- (jobs/refresh-queues.ts), and pg-boss's own '__pgboss__send-it', through which its cron inserts
-- scheduled jobs. pg-boss gives every queue a partition table of pgboss.job, so creating one is
-- DDL; creating them here keeps the worker on DML only. The migration that adds a view adds its
-- queue the same way; the worker refuses to start while a registered view has none.
-- 'stately' is the refresh queues' policy (see jobs/refresh-queues.ts for why); the worker
-- re-applies it with the retry and expiry settings at every start, where they are defined.
SELECT pgboss.create_queue('__pgboss__send-it', '{"policy": "standard"}');
SELECT pgboss.create_queue('refresh.eventstats.mv_failed_jobs', '{"policy": "stately"}');
SELECT pgboss.create_queue('refresh.eventstats.mv_aggregation_by_catalog', '{"policy": "stately"}');
SELECT pgboss.create_queue('refresh.eventstats.mv_job_status_trend', '{"policy": "stately"}');
SELECT pgboss.create_queue('refresh.eventstats.mv_run_status_summary', '{"policy": "stately"}');

-- Down Migration
-- A queue's jobs block its deletion (the partition's foreign key is ON DELETE RESTRICT).
DELETE FROM pgboss.job WHERE name IN ('refresh.eventstats.mv_run_status_summary', 'refresh.eventstats.mv_job_status_trend',
    'refresh.eventstats.mv_aggregation_by_catalog', 'refresh.eventstats.mv_failed_jobs', '__pgboss__send-it');
SELECT pgboss.delete_queue('refresh.eventstats.mv_run_status_summary');
SELECT pgboss.delete_queue('refresh.eventstats.mv_job_status_trend');
SELECT pgboss.delete_queue('refresh.eventstats.mv_aggregation_by_catalog');
SELECT pgboss.delete_queue('refresh.eventstats.mv_failed_jobs');
SELECT pgboss.delete_queue('__pgboss__send-it');
