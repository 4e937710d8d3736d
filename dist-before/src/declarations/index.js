import { aggregationByCatalog } from "./aggregation-by-catalog.js";
import { failedJobs } from "./failed-jobs.js";
import { failedJobsByCountry } from "./failed-jobs-by-country.js";
import { jobStatusTrend } from "./job-status-trend.js";
import { runStatusSummary } from "./run-status-summary.js";
import { storedSpec } from "../rollup/spec.js";
import { viewBaseName } from "../rollup/layout.js";
export const SUPPORTED_QUERIES = Object.freeze([
    failedJobs,
    aggregationByCatalog,
    jobStatusTrend,
    runStatusSummary,
    failedJobsByCountry,
]);
/**
 * Checks that every name a setting lists is a compiled query (REALTIME_OFF); the message names the
 * setting, the entry and the registry, as configuration errors do.
 */
export function unknownQueryNames(setting, names) {
    const known = SUPPORTED_QUERIES.map((q) => q.name);
    const i = names.findIndex((n) => !known.includes(n));
    return i < 0 ? undefined : `invalid configuration: ${setting}.${i}: '${names[i]}' is not a compiled query (${known.join(', ')})`;
}
export function queriesOf(topic) {
    return SUPPORTED_QUERIES.filter((q) => q.topic === topic);
}
export function findQuery(topic, name) {
    return SUPPORTED_QUERIES.find((q) => q.topic === topic && q.name === name);
}
/** Every minute: a maintenance cycle costs what changed (src/maintenance/cycle.ts). */
export const DEFAULT_CRON = '* * * * *';
/** Every view, once, with its declaration and schedule. */
export function registeredViews() {
    const byName = new Map();
    // A view several queries read (src/declarations/job-facts.ts) is maintained once, from its own
    // declaration, on the first of its queries' crons.
    for (const q of SUPPORTED_QUERIES) {
        if (!byName.has(q.rollup.view))
            byName.set(q.rollup.view, { name: q.rollup.view, spec: storedSpec(q.rollup), cron: q.cron ?? DEFAULT_CRON });
    }
    return [...byName.values()];
}
/** A view's schedule: its REFRESH_SCHEDULES override (`overridden`), else the registry's cron. */
export function scheduleOf(view, overrides = {}) {
    const override = overrides[view.name];
    return { cron: (override ?? view.cron).trim(), overridden: override !== undefined };
}
/** The cron a view is refreshed on, by its name (scheduleOf; the default for a name the registry lacks). */
export function viewSchedule(view, overrides = {}) {
    const registered = registeredViews().find((v) => v.name === view);
    return registered ? scheduleOf(registered, overrides).cron : (overrides[view]?.trim() ?? DEFAULT_CRON);
}
/** The views several queries read, by short name. */
export function sharedViewNames() {
    return registeredViews()
        .filter((v) => SUPPORTED_QUERIES.filter((q) => q.rollup.view === v.name).length > 1)
        .map((v) => viewBaseName(v.name));
}
/**
 * What `npm run migration:query -- <name>` generates: the view of a query named so, or a shared view
 * by its short name; the migration's file slug, and the declaration file it is generated from.
 */
export function generatedView(name) {
    const views = registeredViews();
    const query = SUPPORTED_QUERIES.find((q) => q.name === name);
    const view = views.find((v) => viewBaseName(v.name) === name) ?? views.find((v) => v.name === query?.rollup.view);
    if (!view)
        return undefined;
    const base = viewBaseName(view.name);
    const slug = base.replace(/_/g, '-');
    return { name: base, spec: view.spec, slug, source: `src/declarations/${slug}.ts` };
}
//# sourceMappingURL=index.js.map