/**
 * Every table and view name that SQL text may contain. Identifiers never come from request input:
 * builders interpolate only these constants, and values travel as $n parameters.
 */
export const TABLES = Object.freeze({
    runs: 'public_cps_za_runs',
    runsJobs: 'public_cps_za_runs_jobs',
    dlchange: 'public_cps_za_dlchange',
    test: 'public_cps_za_test',
    statusChange: 'public_cps_za_status_change_aggregated_job',
    refreshLog: 'eventstats.refresh_log',
});
/**
 * The materialized views, all in the eventstats schema: one per fact source that compiled queries
 * share (the runs topic's jobs: failed_jobs, job_status_trend, aggregation_by_catalog and
 * failed_jobs_by_country read mv_job_facts), or one per query.
 */
export const VIEWS = Object.freeze({
    jobFacts: 'eventstats.mv_job_facts',
    runStatusSummary: 'eventstats.mv_run_status_summary',
});
/** The status types of the gateway's status-change topic, in the order answers list them. */
export const STATUS_TYPES = Object.freeze(['WAITING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'KILLED']);
/** Gateway topics (lower-cased) and the table each is stored in. */
export const TOPICS = Object.freeze({
    'public.cps.za.runs': TABLES.runs,
    'public.cps.za.dlchange': TABLES.dlchange,
    'public.cps.za.test': TABLES.test,
    'public.cps.za.status_change': TABLES.statusChange,
});
export function isTopic(name) {
    return Object.hasOwn(TOPICS, name);
}
/** The only topic the raw-rows endpoint POST /stats/{topic_name} serves, as upstream. */
export const RAW_STATS_TOPICS = Object.freeze(['public.cps.za.runs']);
/** The refresh worker's pg-boss schema and queue names (src/refresh/queues.ts has the queues' settings). */
/** Installed by migrations/1764000002000_pgboss-schema.sql. */
export const PGBOSS_SCHEMA = 'pgboss';
const QUEUE_PREFIX = 'refresh.';
/** One queue per view: pg-boss keeps one schedule per queue, and each view has its own cron. */
export function refreshQueue(view) {
    return QUEUE_PREFIX + view;
}
export function isRefreshQueue(name) {
    return name.startsWith(QUEUE_PREFIX);
}
//# sourceMappingURL=tables.js.map