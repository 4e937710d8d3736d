import { Params } from "../db/sql.js";
import { HOUR_MS, MINUTE_MS } from "../rollup/window.js";
import { EDGE_TS, edgeSql } from "./plan.js";
import { statementName } from "./parts-statement.js";
/** Bucket sizes an edge may be read in, finest first: an edge spanning more is read from the base tables each time. */
const EDGE_BUCKETS_MS = [MINUTE_MS, HOUR_MS];
/** The finest bucket (of EDGE_BUCKETS_MS, aligned to the epoch) holding all of `r`; undefined if none does. */
export function edgeBucket(r) {
    for (const size of EDGE_BUCKETS_MS) {
        const from = r.from - (((r.from % size) + size) % size);
        if (r.to <= from + size)
            return { from, to: from + size };
    }
    return undefined;
}
/** The first index of ascending `ts` whose value is at least `at`. */
function lowerBound(ts, at) {
    let lo = 0;
    let hi = ts.length;
    while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (ts[mid] < at)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
/** A bucket's rows as fetched (tagged by `part`, with their fact time) into a cached edge: ascending by time, tag and time stripped. */
function edgeOf(rows, quiet) {
    const sorted = [...rows].sort((a, b) => a[EDGE_TS] - b[EDGE_TS]);
    return {
        stable: quiet.stable,
        cycle: quiet.cycle,
        ts: sorted.map((r) => r[EDGE_TS]),
        rows: Object.freeze(sorted.map(({ part: _part, [EDGE_TS]: _ts, ...row }) => Object.freeze(row))),
    };
}
/**
 * Whether the raw ranges can be taken from edge buckets: each lies within one (a window's edges;
 * a range no level covers, which spans hours or more, does not).
 */
export function edgesServe(ranges) {
    return ranges.length > 0 && ranges.every((r) => edgeBucket(r) !== undefined);
}
/**
 * The partials of the facts within `ranges` (each within an edge bucket: edgesServe), from the edge
 * buckets this process holds for the same quiet finding, reading the others in one statement first.
 */
export async function edgePartials(read, ranges, executor, cache) {
    const buckets = ranges.map((r) => edgeBucket(r));
    const keyOf = (b) => `${read.key}|${b.from}|${b.to}`;
    const held = new Map();
    const missing = [];
    for (const b of buckets) {
        const k = keyOf(b);
        if (held.has(k) || missing.some((m) => m.from === b.from && m.to === b.to))
            continue;
        const found = cache.edge(k);
        if (found && found.stable === read.quiet.stable && found.cycle === read.quiet.cycle)
            held.set(k, found);
        else
            missing.push(b);
    }
    if (missing.length) {
        const p = new Params();
        const text = edgeSql(read.spec, missing, read.req, p);
        const rows = await executor.query({ text, values: p.values, name: statementName(text) });
        missing.forEach((b, i) => {
            const edge = edgeOf(rows.filter((r) => r.part === i), read.quiet);
            held.set(keyOf(b), edge);
            cache.setEdge(keyOf(b), edge, read.reader);
        });
    }
    const out = [];
    ranges.forEach((r, i) => {
        const edge = held.get(keyOf(buckets[i]));
        const end = lowerBound(edge.ts, r.to);
        for (let j = lowerBound(edge.ts, r.from); j < end; j++)
            out.push(edge.rows[j]);
    });
    return out;
}
//# sourceMappingURL=edges.js.map