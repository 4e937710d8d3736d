/**
 * The per-process cache of a view's parts: whole-bucket segments (kept with the view version they were
 * read at, and used at a later version while no cycle since changed their buckets) and merged windows
 * (keyed by the version: a refresh makes them unreachable, and the LRU ages them out), bounded in
 * bytes, keys included (src/core/cache-bytes.ts); and the reads of windows under way, so concurrent misses
 * of one window wait for a single read.
 *
 * An entry stored with an `owner` (a user whose filter values made it, or an empty result: what no
 * other user is likely to ask for) also counts against that owner's share, `userMaxBytes`: past it,
 * the owner's oldest entries go, so one user sending random filter values churns their own share and
 * never the entries everyone reads (docs/ARCHITECTURE.md, "Bounded memory").
 */
import { LRUCache } from 'lru-cache';
import { cacheKey, ENTRY_OVERHEAD_BYTES, recordBytes, stringBytes } from "../core/cache-bytes.js";
import { StableIds } from "./stable-ids.js";
import { ViewStates } from "./view-state.js";
import { PARTS_CACHE_MAX_BYTES } from "../core/config.js";
/** Answer keys remembered to tell a polled window from one asked for once (a key of at most 128 characters: under 1.5 MiB in all). */
const ANSWER_KEYS_KEPT = 4096;
export const DEFAULT_PARTS_CACHE = Object.freeze({ stateTtlMs: 1000, maxBytes: PARTS_CACHE_MAX_BYTES });
export const PART_KINDS = Object.freeze(['segment', 'window', 'tail', 'answer', 'edge']);
const zeroes = () => ({ segment: 0, window: 0, tail: 0, answer: 0, edge: 0 });
/** A map entry of a merged window or a tail: its slot pair and key string, and its row (also ranked: one more pair). */
const GROUP_BYTES = 64;
/** An entry's estimated heap bytes (src/core/cache-bytes.ts), its key and bookkeeping included. */
export function partsEntryBytes(key, value) {
    let bytes = ENTRY_OVERHEAD_BYTES + stringBytes(key);
    if ('changed' in value) {
        bytes += 32;
        if (value.delivery)
            bytes += 32 + stringBytes(value.delivery.key) + stringBytes(value.delivery.body) + stringBytes(value.delivery.etag);
        for (const [k, row] of value.changed)
            bytes += GROUP_BYTES + stringBytes(k) + recordBytes(row);
    }
    else if ('ts' in value) {
        bytes += 48 + 8 * value.ts.length;
        for (const row of value.rows)
            bytes += 8 + recordBytes(row);
    }
    else if ('groups' in value) {
        for (const [k, row] of value.groups)
            bytes += GROUP_BYTES + stringBytes(k) + recordBytes(row);
        if ('pending' in value)
            bytes += 8 * value.pending.length + 32;
    }
    else {
        bytes += stringBytes(value.version) + 32;
        for (const row of value.rows)
            bytes += 8 + recordBytes(row);
    }
    return bytes;
}
/** Whether an entry holds nothing (no rows, no groups): an answer cached for whoever asked it only. */
export const isEmpty = (value) => 'changed' in value ? value.changed.size === 0 : 'groups' in value ? value.groups.size === 0 : value.rows.length === 0; // segments and edges: rows
export class PartsCache {
    options;
    /** The views' versions (briefly) and their recent-tier coverage. */
    views;
    rows;
    /** Windows being read from the view right now (hashed keys, as in the cache). */
    loading = new Map();
    /** The job id up to which real-time tails may be cached (src/read/stable-ids.ts). */
    stableIds;
    /** Each owner's entries, oldest stored first, with their sizes; and each owned key's owner. */
    owned = new Map();
    ownerOf = new Map();
    ownedBytes = 0;
    maxBytes;
    userMaxBytes;
    hits = zeroes();
    misses = zeroes();
    evictions = 0;
    /** Answer keys asked for lately (askedBefore). */
    asked = new LRUCache({ max: ANSWER_KEYS_KEPT });
    constructor(options = DEFAULT_PARTS_CACHE) {
        this.options = options;
        this.views = new ViewStates(options.stateTtlMs);
        this.stableIds = new StableIds(options.probeIntervalMs);
        this.maxBytes = options.maxBytes ?? PARTS_CACHE_MAX_BYTES;
        this.userMaxBytes = Math.min(options.userMaxBytes ?? Math.floor(this.maxBytes / 8), this.maxBytes);
        this.rows = new LRUCache({
            maxSize: this.maxBytes,
            sizeCalculation: (value, key) => partsEntryBytes(key, value),
            dispose: (_value, key, reason) => {
                if (reason === 'evict')
                    this.evictions++;
                this.disown(key);
            },
        });
    }
    stats() {
        return {
            hits: { ...this.hits },
            misses: { ...this.misses },
            evictions: this.evictions,
            bytes: this.rows.calculatedSize,
            ownedBytes: this.ownedBytes,
            maxBytes: this.maxBytes,
        };
    }
    disown(key) {
        const owner = this.ownerOf.get(key);
        if (owner === undefined)
            return;
        this.ownerOf.delete(key);
        const share = this.owned.get(owner);
        const size = share.keys.get(key) ?? 0;
        share.keys.delete(key);
        share.bytes -= size;
        this.ownedBytes -= size;
        if (share.keys.size === 0)
            this.owned.delete(owner);
    }
    /** Stores an entry (under its hashed key); an owned one counts against its owner's share too, whose oldest entries then make room. */
    store(key, value, owner) {
        this.rows.set(key, value);
        // An entry larger than the whole bound is not kept (and any earlier one under its key is gone).
        if (owner === undefined || this.rows.peek(key) !== value)
            return;
        const size = partsEntryBytes(key, value);
        let share = this.owned.get(owner);
        if (!share)
            this.owned.set(owner, (share = { bytes: 0, keys: new Map() }));
        share.keys.set(key, size);
        share.bytes += size;
        this.ownedBytes += size;
        this.ownerOf.set(key, owner);
        while (share.bytes > this.userMaxBytes) {
            const oldest = share.keys.keys().next().value;
            this.evictions++;
            this.rows.delete(oldest); // its dispose disowns it
        }
    }
    lookup(kind, key) {
        // An answer's key holds its raw ranges, new on every request of a `days` window: not remembered.
        const found = this.rows.get(cacheKey(key, kind !== 'answer'));
        if (found === undefined)
            this.misses[kind]++;
        else
            this.hits[kind]++;
        return found;
    }
    /**
     * A segment's rows, if cached at `version`, or at an earlier version that `holds` says the current
     * one still matches for this segment (no cycle since changed its buckets; src/rollup/changed.ts).
     * Such a segment is kept again under `version`.
     */
    segment(key, version, holds) {
        const hashed = cacheKey(key);
        const found = this.rows.get(hashed);
        const ok = found !== undefined && (found.version === version || holds(found.version));
        if (!ok) {
            this.misses.segment++;
            return undefined;
        }
        this.hits.segment++;
        if (found.version !== version)
            this.store(hashed, { version, rows: found.rows }, this.ownerOf.get(hashed));
        return found.rows;
    }
    /** `reader`: who read it; a segment their filters shaped, or an empty one, counts against their share. */
    setSegment(key, version, rows, reader) {
        const value = { version, rows };
        this.store(cacheKey(key), value, ownerFor(value, reader));
    }
    window(key) {
        return this.lookup('window', key);
    }
    setWindow(key, window, reader) {
        this.store(cacheKey(key), window, ownerFor(window, reader));
    }
    /** A real-time read's tail, as cached for its window (src/read/tail.ts). */
    tail(key) {
        return this.lookup('tail', `tail|${key}`);
    }
    setTail(key, tail, reader) {
        this.store(cacheKey(`tail|${key}`), tail, ownerFor(tail, reader));
    }
    /**
     * Whether a real-time answer of this window and raw ranges was asked for before (the key is then
     * remembered): only a window asked for twice keeps its answer, so windows that move every
     * millisecond (`days`) never fill the cache with answers nobody asks for again. Bounded by count.
     */
    askedBefore(key) {
        const hashed = cacheKey(`answer|${key}`, false);
        if (this.asked.has(hashed))
            return true;
        this.asked.set(hashed, true);
        return false;
    }
    /** A real-time answer's edges and tail, as cached for its window and raw ranges while nothing was in flight. */
    answer(key) {
        return this.lookup('answer', `answer|${key}`);
    }
    setAnswer(key, answer, reader) {
        this.store(cacheKey(`answer|${key}`, false), answer, ownerFor(answer, reader));
    }
    /** An edge bucket's partials, as cached for a request shape while nothing was in flight (src/read/edges.ts). */
    edge(key) {
        return this.lookup('edge', `edge|${key}`);
    }
    setEdge(key, edge, reader) {
        this.store(cacheKey(`edge|${key}`), edge, ownerFor(edge, reader));
    }
    /** The read of this window that another request has under way, if any. */
    pending(key) {
        return this.loading.get(cacheKey(key));
    }
    /**
     * Runs `read` as the one read of window `key`: until it settles, pending(key) hands its window to
     * concurrent misses (after a refresh every dashboard misses at once), which then need only their
     * own raw edges. If it fails, they read for themselves.
     */
    async lead(key, read, windowOf) {
        const loading = read();
        const shared = loading.then(windowOf);
        shared.catch(() => { }); // a failure nobody waits for is not an unhandled rejection
        const hashed = cacheKey(key);
        this.loading.set(hashed, shared);
        try {
            return await loading;
        }
        finally {
            this.loading.delete(hashed);
        }
    }
}
/** Anonymous reads (no user given: tests, tools) share one owner. */
export const ANONYMOUS_OWNER = '';
/** Whose share an entry counts against: its reader's when filtered or empty; else nobody's (it is everyone's). */
function ownerFor(value, reader) {
    if (reader?.filtered || isEmpty(value))
        return reader?.user ?? ANONYMOUS_OWNER;
    return undefined;
}
//# sourceMappingURL=parts-cache.js.map