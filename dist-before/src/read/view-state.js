import { TABLES } from "../db/tables.js";
import { unchangedBefore } from "../rollup/changed.js";
import { readFreshness } from "../rollup/refresh-log.js";
import { FINE_DAYS, MAINTENANCE, relationsOf } from "../rollup/layout.js";
import { countMeasure, coverageOf, storedSpec } from "../rollup/spec.js";
import { DAY_MS, GRAIN_MS } from "../rollup/window.js";
/** Cycles remembered per view: about 16 hours at one a minute. */
const LINEAGE_KEPT = 1_000;
/** What the refreshed versions in (after, upTo] of a view changed (their refresh-log detail). */
async function readCycles(executor, view, after, upTo) {
    const rows = await executor.query({
        name: 'eventstats_changed_from',
        text: `SELECT l.id::text AS id, l.detail -> 'changedFrom' AS changed FROM ${TABLES.refreshLog} l
            WHERE l.view_name = $1 AND l.outcome = 'refreshed' AND l.id > $2 AND l.id <= $3 ORDER BY l.id`,
        values: [view, after, upTo],
    });
    return rows.map((r) => [Number(r.id), r.changed ?? null]);
}
/** Where the query's recent tiers start (an empty map for a query without one: no statement). */
export async function readCoverage(spec, executor) {
    if (!spec.levels.some((l) => l.recent?.length))
        return new Map();
    const rows = await executor.query({
        name: 'eventstats_fine_from',
        text: `SELECT fine_from FROM ${MAINTENANCE} WHERE view_name = $1`,
        values: [spec.view],
    });
    const fine = rows[0]?.fine_from;
    return coverageOf(spec, fine === undefined || fine === null ? null : Number(fine));
}
/**
 * What the router weighs (src/read/plan.ts): the rows each (level, grain) holds in one whole day,
 * the last before the latest fact's day (inside every recent tier), and the facts of that day. One
 * index range per (level, grain), read once per version. Undefined without a recent tier to place
 * the day by: the router then takes the first covering level.
 */
export async function readLevelSizes(reading, executor, coverage) {
    // The view's own declaration: its count measure is a stored column (a query's reading may rename it).
    const spec = storedSpec(reading);
    const fine = coverage.values().next().value;
    if (fine === undefined)
        return undefined;
    const from = fine + (FINE_DAYS - 1) * DAY_MS;
    const { buckets } = relationsOf(spec);
    const parts = spec.levels.flatMap((l) => l.grains.map((g) => `SELECT ${l.id} AS lvl, '${g}' AS grain, count(*)::float8 AS n FROM ${buckets} WHERE lvl = ${l.id} AND grain_ms = ${GRAIN_MS[g]} AND bucket >= $1 AND bucket < $2`));
    // The facts of the day, from the first level's coarsest grain (every level sums the same facts).
    const first = spec.levels[0];
    parts.push(`SELECT -1, NULL, coalesce(sum(${countMeasure(spec)}), 0)::float8 FROM ${buckets} WHERE lvl = ${first.id} AND grain_ms = ${GRAIN_MS[first.grains[0]]} AND bucket >= $1 AND bucket < $2`);
    const rows = await executor.query({ text: parts.join('\nUNION ALL\n'), values: [from, from + DAY_MS] });
    const sizes = new Map();
    let factsPerDay = 0;
    for (const r of rows) {
        if (r.lvl < 0)
            factsPerDay = r.n;
        else {
            let m = sizes.get(r.lvl);
            if (!m)
                sizes.set(r.lvl, (m = new Map()));
            m.set(r.grain, r.n);
        }
    }
    return { rows: sizes, factsPerDay };
}
/** A view's recent-tier coverage and its levels' sizes: what planParts needs besides the request. */
export async function readPlanInputs(spec, executor) {
    const coverage = await readCoverage(spec, executor);
    return { coverage, sizes: await readLevelSizes(spec, executor, coverage) };
}
/** Views' states are per database: the replica (or primary) a request's statements went to. */
const stateKey = (executor, view) => `${executor.origin?.().name ?? ''}|${view}`;
export class ViewStates {
    ttlMs;
    known = new Map();
    lineages = new Map();
    /** @param ttlMs how long a version read is trusted, in ms of wall clock (0: read on every call) */
    constructor(ttlMs) {
        this.ttlMs = ttlMs;
    }
    async current(executor, view) {
        const now = Date.now();
        // Each replica is at its own version: a version read on one says nothing of another's rows.
        const key = stateKey(executor, view);
        const known = this.known.get(key);
        if (known && now - known.at < this.ttlMs)
            return known;
        const state = (await readFreshness(executor, [view])).get(view);
        // A read that failed over to another database (a replica session) is that database's version:
        // this request uses it, and nothing is kept under the first one's name.
        if (stateKey(executor, view) !== key)
            return { state, at: now };
        // The same version keeps its coverage; a new one reads it again.
        const fresh = known && known.state.version === state.version ? { ...known, state, at: now } : { state, at: now };
        this.known.set(key, fresh);
        return fresh;
    }
    /**
     * The view's refresh state and, once it has a version, its recent-tier coverage. A view never
     * refreshed has no version: nothing may be cached from it, and it has no coverage to read.
     */
    async read(executor, spec) {
        const known = await this.current(executor, spec.view);
        if (known.state.version === null)
            return { state: known.state, coverage: new Map(), sizes: undefined, holds: () => false };
        if (!known.coverage) {
            const key = stateKey(executor, spec.view);
            const reading = readPlanInputs(spec, executor);
            known.coverage = reading;
            // Kept only if it came from the database the version did (a session may fail over meanwhile).
            reading.then(() => {
                if (stateKey(executor, spec.view) !== key && known.coverage === reading)
                    known.coverage = undefined;
            }, () => { });
        }
        const lineage = await this.lineage(executor, spec.view, Number(known.state.version));
        const current = Number(known.state.version);
        const holds = (readAt, grainMs, to) => {
            const v = Number(readAt);
            if (v === current)
                return true;
            // The version itself is a refreshed row of the lineage: without it, the lineage knows nothing of it.
            if (!(v >= lineage.since && v < current && current <= lineage.newest && lineage.cycles.has(current)))
                return false;
            const between = [...lineage.cycles].filter(([id]) => id > v && id <= current).map(([, c]) => c);
            return unchangedBefore(between, grainMs, to);
        };
        try {
            return { state: known.state, ...(await known.coverage), holds };
        }
        catch (err) {
            known.coverage = undefined;
            throw err;
        }
    }
    /**
     * The view's cycles up to `version` as this process knows them (per database, as versions are).
     * A new version reads what the cycles since the last one known changed (one small statement per
     * version); a failure, or a version behind the newest known (a replica behind another), starts
     * the lineage again at `version`: segments of earlier versions are then read again, never trusted.
     */
    async lineage(executor, view, version) {
        const key = stateKey(executor, view);
        let lineage = this.lineages.get(key);
        if (!lineage || version < lineage.since) {
            lineage = { since: version, newest: version, cycles: new Map() };
            this.lineages.set(key, lineage);
            return lineage;
        }
        const l = lineage;
        while (version > l.newest) {
            l.fetching ??= (async () => {
                const upTo = version;
                try {
                    const cycles = await readCycles(executor, view, l.newest, upTo);
                    // On one database a view's cycles commit in id order, so holding `upTo` means holding all of
                    // (newest, upTo]. A read that failed over to a replica further behind may hold fewer: a gap
                    // would let a segment skip a cycle that changed it, so the lineage starts again instead.
                    if (cycles.at(-1)?.[0] !== upTo || stateKey(executor, view) !== key)
                        throw new Error('an incomplete lineage');
                    for (const [id, changed] of cycles)
                        l.cycles.set(id, changed);
                    l.newest = Math.max(l.newest, upTo);
                    while (l.cycles.size > LINEAGE_KEPT) {
                        const oldest = l.cycles.keys().next().value;
                        l.cycles.delete(oldest);
                        l.since = oldest;
                    }
                }
                catch {
                    l.since = l.newest = upTo;
                    l.cycles.clear();
                }
            })().finally(() => (l.fetching = undefined));
            await l.fetching;
        }
        return l;
    }
}
//# sourceMappingURL=view-state.js.map