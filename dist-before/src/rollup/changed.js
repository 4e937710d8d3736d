/**
 * Where a cycle changed what readers see: per grain, the lowest bucket start from which that grain's
 * rows (history's, or the view's through the buckets union) may differ from the previous version.
 * Written into the refresh log's detail (`changedFrom`), so an API process can keep a cached segment
 * of whole buckets across versions when every cycle since it was read changed only later buckets
 * (src/read/view-state.ts): a cycle a minute then no longer makes a dashboard's older segments
 * unreachable. Always an under-estimate of the first change (a bucket start, never a fact time),
 * never an over-estimate: a reader may throw away a segment that was still good, never keep one
 * that was not.
 */
import { floorTo, GRAIN_MS } from "./window.js";
export class ChangedBuckets {
    lowest = new Map();
    everything = false;
    /** Rows of this grain (ms) from this bucket start on may have changed. */
    grain(grainMs, bucket) {
        const had = this.lowest.get(grainMs);
        if (had === undefined || bucket < had)
            this.lowest.set(grainMs, bucket);
    }
    /** Every grain's buckets holding time t or later may have changed (days re-aggregated, the view refreshed). */
    from(t) {
        for (const g of Object.values(GRAIN_MS))
            this.grain(g, floorTo(t, g));
    }
    /** Anything may have changed (a rebuild). */
    all() {
        this.everything = true;
    }
    /** For the refresh log: grain ms → lowest changed bucket; null when anything may have changed. */
    toJSON() {
        if (this.everything)
            return null;
        return Object.fromEntries([...this.lowest].sort(([a], [b]) => a - b).map(([g, b]) => [String(g), b]));
    }
}
/**
 * Whether a segment of whole `grainMs` buckets ending at `to` (exclusive) read at some version is
 * still what a later version holds, given the `changedFrom` of every cycle between them.
 */
export function unchangedBefore(cycles, grainMs, to) {
    return cycles.every((c) => c !== null && (c[String(grainMs)] ?? Infinity) >= to);
}
//# sourceMappingURL=changed.js.map