import { Counter, Gauge, Histogram } from 'prom-client';
import { scrapeRead } from "./registry.js";
export const REFRESH_METRICS = Object.freeze({
    refreshes: 'eventstats_refreshes_total',
    duration: 'eventstats_refresh_duration_seconds',
    changedRows: 'eventstats_refresh_changed_rows',
    recomputedDays: 'eventstats_refresh_recomputed_days_total',
    deletedFacts: 'eventstats_refresh_deleted_facts_total',
    rebuilds: 'eventstats_refresh_rebuilds_total',
    orphanJobs: 'eventstats_refresh_orphan_jobs',
    heldBackJobs: 'eventstats_refresh_held_back_jobs',
    longWriters: 'eventstats_refresh_long_writers',
    oldestWriter: 'eventstats_refresh_oldest_writer_age_seconds',
    sinceSuccess: 'eventstats_refresh_last_success_age_seconds',
    sinceCheck: 'eventstats_refresh_last_check_age_seconds',
    queueJobs: 'eventstats_refresh_queue_jobs',
});
export const OUTCOMES = Object.freeze(['refreshed', 'skipped', 'failed', 'coalesced']);
export const QUEUE_STATES = Object.freeze(['ready', 'deferred', 'active', 'failed']);
/** Seconds: a skipped check takes milliseconds, a rebuild of a large history minutes. */
const DURATION_BUCKETS = Object.freeze([0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]);
const ROW_BUCKETS = Object.freeze([0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]);
// A scrape's reads (refresh log, queues) get this long before their gauges are left out of it.
const READ_LIMIT_MS = 5_000;
export function refreshMetrics(registry, sources) {
    const now = sources.now ?? Date.now;
    const registers = [registry];
    const refreshes = new Counter({
        name: REFRESH_METRICS.refreshes,
        help: 'Refresh attempts by view and outcome: refreshed, skipped (nothing changed), failed, coalesced (another refresh of the view held its lock).',
        labelNames: ['view', 'outcome'],
        registers,
    });
    const duration = new Histogram({
        name: REFRESH_METRICS.duration,
        help: "A refresh's duration as eventstats.refresh_log records it, by view and outcome (coalesced attempts are not timed).",
        labelNames: ['view', 'outcome'],
        buckets: [...DURATION_BUCKETS],
        registers,
    });
    const changedRows = new Histogram({
        name: REFRESH_METRICS.changedRows,
        help: 'History rows one incremental refresh inserted or updated, by view and kind: sealed (the minutes that closed since the last refresh), ' +
            'late (jobs and status changes that arrived for minutes sealed before). Rebuilds are not observed.',
        labelNames: ['view', 'kind'],
        buckets: [...ROW_BUCKETS],
        registers,
    });
    const perView = (name, help) => new Counter({ name, help, labelNames: ['view'], registers });
    const recomputedDays = perView(REFRESH_METRICS.recomputedDays, 'Days of history re-aggregated from the base tables after updates or deletes, by view.');
    const deletedFacts = perView(REFRESH_METRICS.deletedFacts, 'Deleted facts whose buckets were recomputed, by view.');
    const rebuilds = perView(REFRESH_METRICS.rebuilds, 'Refreshes that rebuilt the history from the base tables (first population, a TRUNCATE, or asked for), by view.');
    const orphans = new Gauge({
        name: REFRESH_METRICS.orphanJobs,
        help: "Jobs whose run had not arrived at this process's last refresh of the view (carried to the next refresh), by view.",
        labelNames: ['view'],
        registers,
    });
    const heldBack = new Gauge({
        name: REFRESH_METRICS.heldBackJobs,
        help: "Job ids at or below the view's watermark held back at this process's last refresh of it, because a writer transaction that may still commit them was open (counted once it commits), by view.",
        labelNames: ['view'],
        registers,
    });
    const longWriters = new Gauge({
        name: REFRESH_METRICS.longWriters,
        help: 'Writer transactions on the jobs table open longer than REFRESH_LONG_WRITER_MS at this process\'s last refresh of the view (named in the log with pid and age; never ended), by view.',
        labelNames: ['view'],
        registers,
    });
    const oldestWriter = new Gauge({
        name: REFRESH_METRICS.oldestWriter,
        help: "Age of the oldest writer transaction on the jobs table whose ids the view's last refresh (in this process) held back; 0 when none, by view.",
        labelNames: ['view'],
        registers,
    });
    for (const view of sources.views) {
        for (const outcome of OUTCOMES)
            refreshes.inc({ view, outcome }, 0);
        for (const c of [recomputedDays, deletedFacts, rebuilds])
            c.inc({ view }, 0);
    }
    const freshness = scrapeRead(() => sources.freshness(), READ_LIMIT_MS);
    const age = (name, help, at) => new Gauge({
        name,
        help,
        labelNames: ['view'],
        registers,
        async collect() {
            this.reset();
            let state;
            try {
                state = await freshness();
            }
            catch (err) {
                sources.log.warn({ err }, `metrics: ${name} left out of this scrape (the refresh log could not be read)`);
                return;
            }
            if (!state)
                return;
            const t = now();
            for (const view of sources.views) {
                const time = at(state.get(view));
                this.set({ view }, time ? Math.max(0, (t - time.getTime()) / 1000) : Infinity);
            }
        },
    });
    age(REFRESH_METRICS.sinceSuccess, 'Seconds since the last refresh of the view that changed it (outcome refreshed, any worker or npm run refresh); +Inf if it never had one.', (f) => f?.refreshedAt);
    age(REFRESH_METRICS.sinceCheck, 'Seconds since a refresh last brought the view up to date or found it so (refreshed or skipped), what /health compares with 3 schedule intervals; +Inf if never.', (f) => f?.sourceCheckedAt);
    const queues = scrapeRead(() => sources.queues(), READ_LIMIT_MS);
    new Gauge({
        name: REFRESH_METRICS.queueJobs,
        help: "Jobs in a view's pg-boss refresh queue by state (ready, deferred, active, failed and retained), as of pg-boss's last monitor pass.",
        labelNames: ['queue', 'state'],
        registers,
        async collect() {
            this.reset();
            let found;
            try {
                found = await queues();
            }
            catch (err) {
                sources.log.warn({ err }, `metrics: ${REFRESH_METRICS.queueJobs} left out of this scrape (the queues could not be read)`);
                return;
            }
            for (const q of found)
                for (const state of QUEUE_STATES)
                    this.set({ queue: q.queue, state }, q.counts[state]);
        },
    });
    return {
        observe({ view, outcome, durationMs, report }) {
            refreshes.inc({ view, outcome });
            if (outcome !== 'coalesced')
                duration.observe({ view, outcome }, durationMs / 1000);
            if (!report)
                return;
            if (report.rebuild)
                rebuilds.inc({ view });
            else {
                changedRows.observe({ view, kind: 'sealed' }, report.sealedRows ?? 0);
                changedRows.observe({ view, kind: 'late' }, report.deltaRows ?? 0);
            }
            if (report.recomputedDays)
                recomputedDays.inc({ view }, report.recomputedDays);
            if (report.deletedFacts)
                deletedFacts.inc({ view }, report.deletedFacts);
            if (report.orphans !== undefined)
                orphans.set({ view }, report.orphans);
            if (report.heldBack !== undefined)
                heldBack.set({ view }, report.heldBack);
            if (report.longWriters !== undefined)
                longWriters.set({ view }, report.longWriters.length);
            if (report.holders !== undefined)
                oldestWriter.set({ view }, (report.oldestHolderMs ?? 0) / 1000);
        },
    };
}
//# sourceMappingURL=refresh.js.map