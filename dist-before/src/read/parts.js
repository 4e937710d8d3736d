import { mergeInto } from "./merge.js";
import { ANONYMOUS_OWNER } from "./parts-cache.js";
import { partsStatement, RAW_PART, stripPart } from "./parts-statement.js";
import { FACTS_COLUMN, PENDING_PART, realtimeCapable, STABLE_PART, TAIL_PART, VERSION_PART } from "./tail.js";
import { pageOf } from "./ranking.js";
import {} from "../declarations/types.js";
import {} from "../rollup/spec.js";
import { planParts, readsBeyondEdges } from "./plan.js";
import { GRAIN_MS } from "../rollup/window.js";
import { edgePartials, edgesServe } from "./edges.js";
async function fetchParts(spec, executor, statement) {
    const rows = statement ? await executor.query(statement) : [];
    const first = Object.keys(spec.measures)[0];
    const out = { raw: [], segments: new Map(), stable: [], pending: [], tailRows: 0, stableRows: 0 };
    for (const row of rows) {
        const part = row.part;
        if (part === RAW_PART)
            out.raw.push(stripPart(row));
        else if (part === TAIL_PART) {
            out.raw.push(stripPart(row));
            out.tailRows += row[FACTS_COLUMN];
        }
        else if (part === STABLE_PART) {
            out.stable.push(stripPart(row));
            out.stableRows += row[FACTS_COLUMN];
        }
        else if (part === PENDING_PART)
            out.pending.push(row[first]);
        else if (part === VERSION_PART)
            out.version = row[first] === null ? null : String(row[first]);
        else {
            let list = out.segments.get(part);
            if (!list)
                out.segments.set(part, (list = []));
            list.push(stripPart(row));
        }
    }
    return out;
}
/**
 * The merged partial aggregates of a request (ranked when `rank` is given). One statement at most:
 * the raw edges plus whatever segments the cache lacks, tagged by `part`; with `realtime` (for a
 * source that can say what its materialization has not absorbed), the tail too (src/read/tail.ts).
 */
export async function readParts(spec, req, executor, cache, rank, realtime = false, user, admission) {
    const { state, coverage, sizes, holds } = await cache.views.read(executor, spec);
    const plan = planParts(spec, req, coverage, sizes);
    // A read of the base tables beyond the edges holds a connection for long: admitted within the
    // user's and the process's budget, or refused with 429 (src/core/admission.ts).
    const release = admission && readsBeyondEdges(plan) ? admission.enter(user ?? ANONYMOUS_OWNER) : undefined;
    try {
        return await readPlanned(spec, req, executor, cache, rank, realtime, user, { state, holds, plan });
    }
    finally {
        release?.();
    }
}
const MEASURE_NAMES = new WeakMap();
/** A spec's measure names, joined once per spec (a parts-cache key names what its rows hold). */
function measureNames(spec) {
    let names = MEASURE_NAMES.get(spec);
    if (names === undefined)
        MEASURE_NAMES.set(spec, (names = Object.keys(spec.measures).join(',')));
    return names;
}
async function readPlanned(spec, req, executor, cache, rank, realtime, user, { state, holds, plan }) {
    // Never refreshed (or unpopulated): nothing is cached, and reading the view reports not_ready.
    const cacheable = state.version !== null;
    const live = realtime && realtimeCapable(spec) && plan.segments.length > 0;
    // A segment outlives its version while no cycle changes its buckets (ViewStates.holds); a merged
    // window and a tail are of one version.
    const shape = JSON.stringify([
        spec.view,
        // Queries that share a view (src/declarations/job-facts.ts) read different measures of it.
        measureNames(spec),
        plan.level?.id,
        req.groupDims,
        req.bucketGrain ?? null,
        Object.entries(req.filters).sort(([a], [b]) => (a < b ? -1 : 1)),
        req.access,
    ]);
    const base = `${state.version}|${shape}`;
    // What this request's own filter values shape is cached within its user's share (src/read/parts-cache.ts).
    const reader = { user: user ?? ANONYMOUS_OWNER, filtered: Object.keys(req.filters).length > 0 };
    const segKey = (s) => `${shape}|${s.grain}|${s.range.from}|${s.range.to}`;
    const cachedSegment = (s) => cache.segment(segKey(s), state.version, (readAt) => holds(readAt, GRAIN_MS[s.grain], s.range.to));
    const windowKey = `${base}|${plan.segments.map((s) => `${s.grain}:${s.range.from}:${s.range.to}`).join(',')}`;
    let window = cacheable ? cache.window(windowKey) : undefined;
    // Another request is reading this window's segments: wait for its read rather than run the same
    // heavy statement again. If it fails, read here.
    const pending = window || !cacheable ? undefined : cache.pending(windowKey);
    if (pending)
        window = await pending.catch(() => undefined);
    const segments = window ? [] : plan.segments.map((s) => (cacheable ? cachedSegment(s) : undefined));
    const missing = window ? [] : plan.segments.flatMap((_, i) => (segments[i] ? [] : [i]));
    const all = plan.segments.map((_, i) => i);
    // The tail up to the stable id this process knows (and what it cached of it for this window).
    const stableNow = live ? await cache.stableIds.current(executor) : 0;
    // A tail's stable part holds for the database it was read from (a replica's replay position is its own).
    const source = executor.origin?.().name ?? '';
    const tailKey = `${windowKey}|${source}`;
    const cachedTail = live && cacheable ? cache.tail(tailKey) : undefined;
    const tailRead = (held) => live ? { cached: held, stableTo: Math.max(stableNow, held?.stableTo ?? 0) } : undefined;
    // Nothing in flight since the tail this process holds (src/read/stable-ids.ts): it is the whole
    // tail, and an answer read since with it is still the answer. Not on a replica (its replay has its own position).
    const still = live && cacheable && !executor.origin?.().standby ? cache.stableIds.quiet() : undefined;
    const quiet = still && still.stable === stableNow ? still : undefined;
    const sameQuiet = (q) => q !== undefined && quiet !== undefined && q.stable === quiet.stable && q.cycle === quiet.cycle;
    const settled = cachedTail && sameQuiet(cachedTail.quiet) && cachedTail.stableTo === quiet.stable && cachedTail.pending.length === 0 ? cachedTail : undefined;
    const answerKey = `${tailKey}|${plan.raw.map((r) => `${r.from}:${r.to}`).join(',')}`;
    // With the tail settled, the raw edges are all a statement would read for a cached window: while
    // nothing is in flight they come from the edge buckets this process holds (src/read/edges.ts).
    const edgeRead = quiet && settled && cacheable && edgesServe(plan.raw) ? { spec, req, key: `${shape}|${source}`, quiet, reader } : undefined;
    if (quiet && settled && window) {
        const held = cache.answer(answerKey);
        if (held && sameQuiet(held)) {
            const deliveries = { held: held.delivery, keep: (delivery) => cache.setAnswer(answerKey, { ...held, delivery }, reader) };
            return { page: pageOf(window, held.changed, rank), state, tailRows: held.tailRows, stalenessMs: Math.max(0, Date.now() - quiet.since), deliveries };
        }
    }
    const merge = (fetched, cached, store) => {
        const groups = new Map();
        plan.segments.forEach((s, i) => {
            let rows = cached[i];
            if (!rows) {
                rows = Object.freeze(fetched.segments.get(i) ?? []);
                if (store)
                    cache.setSegment(segKey(s), state.version, rows, reader);
            }
            mergeInto(spec, req, groups, rows);
        });
        const merged = { groups };
        if (store)
            cache.setWindow(windowKey, merged, reader);
        return merged;
    };
    /** The tail's stable part after this read: what was held plus what became stable. */
    const stableTail = (fetched, held, read) => {
        const groups = new Map(held?.groups ?? []);
        mergeInto(spec, req, groups, fetched.stable);
        const rows = (held?.rows ?? 0) + fetched.stableRows;
        // A tail that saw jobs past the stable id was not read while nothing was in flight.
        const calm = quiet && fetched.tailRows === 0;
        return { stableTo: read.stableTo, pending: fetched.pending, groups, rows, ...(calm ? { quiet: { stable: quiet.stable, cycle: quiet.cycle } } : {}) };
    };
    const read = async () => {
        // A settled tail is not read again: the statement holds the raw edges and missing segments only.
        const tr = settled ? undefined : tailRead(cachedTail);
        const edges = edgeRead ? await edgePartials(edgeRead, plan.raw, executor, cache) : undefined;
        const fetched = await fetchParts(spec, executor, partsStatement(spec, edges ? { ...plan, raw: [] } : plan, req, missing, tr));
        if (edges)
            fetched.raw.push(...edges);
        if (tr && fetched.tailRows > 0)
            cache.stableIds.disturbed();
        // A statement reading segments or a tail saw the version they belong to. Parts cached under
        // another one do not match them (a cycle absorbed some of the tail in between; or, with replicas,
        // the read failed over to a database at another version): read everything again from one
        // snapshot, and cache nothing of it. The version may be older than the one keyed (a replica behind).
        const checked = tr !== undefined || missing.length > 0;
        const matches = (!checked || fetched.version === state.version) && (executor.origin?.().name ?? '') === source;
        if (!matches && (window || cachedTail || missing.length < plan.segments.length)) {
            const whole = tailRead(undefined);
            const again = await fetchParts(spec, executor, partsStatement(spec, plan, req, all, whole));
            return { fetched: again, window: merge(again, [], false), tail: whole && stableTail(again, undefined, whole), cached: false };
        }
        const tail = tr ? stableTail(fetched, cachedTail, tr) : settled;
        if (tr && tail && cacheable && matches)
            cache.setTail(tailKey, tail, reader);
        if (window)
            return { fetched, window, tail, cached: matches };
        return { fetched, window: merge(fetched, segments, cacheable && matches), tail, cached: cacheable && matches };
    };
    // This request reads the window; concurrent misses of it wait for this read (see above).
    const leads = !window && cacheable && !cache.pending(windowKey);
    // A window not of the version keyed is no use to the requests waiting for it: they read for themselves.
    const shared = (r) => {
        if (!r.cached)
            throw new Error('the window read was not of the version keyed');
        return r.window;
    };
    const result = leads ? await cache.lead(windowKey, read, shared) : await read();
    const changed = new Map();
    const { fetched, tail } = result;
    mergeInto(spec, req, changed, tail ? [...fetched.raw, ...tail.groups.values()] : fetched.raw, result.window.groups);
    const page = pageOf(result.window, changed, rank);
    if (!realtime || !realtimeCapable(spec))
        return { page, state };
    const tailRows = (tail?.rows ?? 0) + fetched.tailRows;
    // Read while nothing was in flight, with a tail that is all stable and waits for no run: the next
    // poll of this window (one asked for before: a poll, not a window that moves) answers from it
    // until a probe finds something new. A window ending at the request's now is never asked for
    // again (concurrent requests within one millisecond would otherwise each keep a whole answer).
    if (!req.window.relative && quiet && fetched.tailRows === 0 && result.cached && tail && tail.stableTo === quiet.stable && tail.pending.length === 0 && cache.askedBefore(answerKey)) {
        cache.setAnswer(answerKey, { stable: quiet.stable, cycle: quiet.cycle, changed, tailRows }, reader);
    }
    return settled ? { page, state, tailRows, stalenessMs: Math.max(0, Date.now() - quiet.since) } : { page, state, tailRows };
}
//# sourceMappingURL=parts.js.map