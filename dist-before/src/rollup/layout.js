/**
 * The storage layout a compiled query's declaration generates, shared by the cycle that writes it
 * (src/maintenance/) and the reads and /health that read it (src/read/, src/http/): the relation
 * names, the key, the tiers (how long the view keeps facts before history seals them, how long
 * recent grains are kept), and bucket flooring in SQL (src/rollup/window.ts floors in JS).
 */
import { MINUTE_MS } from "./window.js";
/** EventStats' maintenance state, one row per view (migrations/1764000006000_incremental-maintenance.sql). */
export const MAINTENANCE = 'eventstats.maintenance';
export const ORPHAN_JOBS = 'eventstats.orphan_jobs';
export const INVALIDATIONS = 'eventstats.invalidations';
export const STATUS_CHANGE_DELTAS = 'eventstats.status_change_deltas';
export const DELETED_FACTS = 'eventstats.deleted_facts';
export const HELD_BACK_JOBS = 'eventstats.held_back_jobs';
export function relationsOf(spec) {
    const base = viewBaseName(spec.view);
    return { view: spec.view, history: `eventstats.${base}_history`, buckets: `eventstats.${base}_buckets` };
}
/** A view's short name (eventstats.mv_job_facts: job_facts), which its relations, generated migrations and declaration file are named after. */
export function viewBaseName(view) {
    const m = /^eventstats\.mv_([a-z0-9_]+)$/.exec(view);
    if (!m)
        throw new Error(`view ${view} must be named eventstats.mv_<query>`);
    return m[1];
}
/** The view's and history's key columns, in unique-index order. */
export function keyColumns(spec) {
    return ['lvl', 'grain_ms', 'bucket', 'null_mask', ...spec.dims];
}
/** The start of the grain-`g` bucket of epoch-ms expression `ts` (floored, also below 1970). */
export const floorExpr = (ts, g) => `${ts} - ((${ts} % ${g}) + ${g}) % ${g}`;
/**
 * The view keeps the facts from the start of the previous minute on: everything older is sealed as
 * soon as its minute has closed (history's hour and day rows of the current hour and day grow by
 * merges), so the view's REFRESH costs a minute or two of facts, whatever the history.
 */
export const OPEN_MS = MINUTE_MS;
/** Recent-tier grains are kept for this many days before the latest fact. */
export const FINE_DAYS = 8;
//# sourceMappingURL=layout.js.map