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
import { cacheKey, ENTRY_OVERHEAD_BYTES, recordBytes, stringBytes } from '../core/cache-bytes.ts';
import type { MergedWindow } from './merge.ts';
import type { PartRow } from '../rollup/spec.ts';
import { StableIds } from './stable-ids.ts';
import type { CachedTail } from './tail.ts';
import { ViewStates } from './view-state.ts';
import { PARTS_CACHE_MAX_BYTES, type PartsCacheOptions } from '../core/config.ts';

/** Answer keys remembered to tell a polled window from one asked for once (a key of at most 128 characters: under 1.5 MiB in all). */
const ANSWER_KEYS_KEPT = 4096;
export const DEFAULT_PARTS_CACHE: PartsCacheOptions = Object.freeze({ stateTtlMs: 1000, maxBytes: PARTS_CACHE_MAX_BYTES });

/** A segment's rows and the view version they were read at (a later version may still hold them). */
interface CachedSegment {
  readonly version: string;
  readonly rows: readonly PartRow[];
}
/**
 * A real-time read's groups beside its merged window (raw edges and tail merged), kept while nothing
 * is in flight (src/read/stable-ids.ts): a poll of the same window with its window cached and the
 * stable id still `stable` is answered from it without a statement.
 */
export interface CachedAnswer {
  readonly stable: number;
  /** The newest cycle when it was read (Quiet.cycle): a cycle since may have applied deletes. */
  readonly cycle: string | null;
  readonly changed: ReadonlyMap<string, PartRow>;
  readonly tailRows: number;
  /** A moving window's: the signature of the edge rows merged into `changed` (src/read/edges.ts EdgePartials). */
  readonly edges?: string;
  /** The answer as last sent from it (src/http/answer.ts), counted in the entry's bytes. */
  readonly delivery?: Delivery;
}

/**
 * An answer as sent: its body (for JSON, its identity: the body without meta.staleness_ms) and its
 * entity tag, for the request it was made for (`key`: format, parameters and meta). A poll answered
 * from the process with the same key sends it again without serialising or hashing the rows.
 */
export interface Delivery {
  readonly key: string;
  readonly body: string;
  readonly etag: string;
}

/** What a read answered from a CachedAnswer hands up: its delivery, and how to keep a new one with it. */
export interface Deliveries {
  readonly held: Delivery | undefined;
  keep(delivery: Delivery): void;
}
/**
 * The base tables' partials of one edge bucket (the minute or hour a window's raw edge lies in),
 * per group and fact time, read while nothing was in flight: a window whose edge falls in that
 * bucket takes its edge's partials from it (those with `ts` within the edge) while a probe still
 * finds the same stable id and cycle (src/read/edges.ts).
 */
export interface CachedEdge {
  readonly stable: number;
  readonly cycle: string | null;
  /** Fact times (epoch ms), ascending; `rows[i]` holds the partials of the facts at `ts[i]`. */
  readonly ts: readonly number[];
  readonly rows: readonly PartRow[];
}
type Cached = CachedSegment | MergedWindow | CachedTail | CachedAnswer | CachedEdge;

/** What a lookup asks for: a whole-bucket segment, a merged window, a real-time tail, a real-time answer's edges and tail, or an edge bucket's partials. */
export type PartKind = 'segment' | 'window' | 'tail' | 'answer' | 'edge';
export const PART_KINDS: readonly PartKind[] = Object.freeze(['segment', 'window', 'tail', 'answer', 'edge']);

/**
 * Counts since the cache was made, for whoever wants to report them (the metrics read them on each
 * scrape, src/metrics/api.ts); the cache itself knows nothing of how they are exported.
 */
export interface PartsCacheStats {
  readonly hits: Readonly<Record<PartKind, number>>;
  readonly misses: Readonly<Record<PartKind, number>>;
  /** Entries dropped to keep the cache within maxBytes, or an owner within userMaxBytes. */
  readonly evictions: number;
  /** Bytes held now, as counted against maxBytes (keys included). */
  readonly bytes: number;
  /** Of those, the bytes held by owned entries (filtered or empty results). */
  readonly ownedBytes: number;
  readonly maxBytes: number;
}

const zeroes = (): Record<PartKind, number> => ({ segment: 0, window: 0, tail: 0, answer: 0, edge: 0 });

/** A map entry of a merged window or a tail: its slot pair and key string, and its row (also ranked: one more pair). */
const GROUP_BYTES = 64;

/** An entry's estimated heap bytes (src/core/cache-bytes.ts), its key and bookkeeping included. */
export function partsEntryBytes(key: string, value: Cached): number {
  let bytes = ENTRY_OVERHEAD_BYTES + stringBytes(key);
  if ('changed' in value) {
    bytes += 32;
    if (value.delivery) bytes += 32 + stringBytes(value.delivery.key) + stringBytes(value.delivery.body) + stringBytes(value.delivery.etag);
    for (const [k, row] of value.changed) bytes += GROUP_BYTES + stringBytes(k) + recordBytes(row);
  } else if ('ts' in value) {
    bytes += 48 + 8 * value.ts.length;
    for (const row of value.rows) bytes += 8 + recordBytes(row);
  } else if ('groups' in value) {
    for (const [k, row] of value.groups) bytes += GROUP_BYTES + stringBytes(k) + recordBytes(row);
    if ('pending' in value) bytes += 8 * value.pending.length + 32;
  } else {
    bytes += stringBytes(value.version) + 32;
    for (const row of value.rows) bytes += 8 + recordBytes(row);
  }
  return bytes;
}

/** Whether an entry holds nothing (no rows, no groups): an answer cached for whoever asked it only. */
export const isEmpty = (value: Cached): boolean =>
  'changed' in value ? value.changed.size === 0 : 'groups' in value ? value.groups.size === 0 : value.rows.length === 0; // segments and edges: rows

export class PartsCache {
  /** The views' versions (briefly) and their recent-tier coverage. */
  readonly views: ViewStates;
  private readonly rows: LRUCache<string, Cached>;
  /** Windows being read from the view right now (hashed keys, as in the cache). */
  readonly loading = new Map<string, Promise<MergedWindow>>();
  /** The job id up to which real-time tails may be cached (src/read/stable-ids.ts). */
  readonly stableIds: StableIds;
  /** Each owner's entries, oldest stored first, with their sizes; and each owned key's owner. */
  private readonly owned = new Map<string, { bytes: number; readonly keys: Map<string, number> }>();
  private readonly ownerOf = new Map<string, string>();
  private ownedBytes = 0;
  readonly maxBytes: number;
  readonly userMaxBytes: number;
  private readonly hits = zeroes();
  private readonly misses = zeroes();
  private evictions = 0;
  /** Answer keys asked for lately (askedBefore). */
  private readonly asked = new LRUCache<string, true>({ max: ANSWER_KEYS_KEPT });

  constructor(readonly options: PartsCacheOptions = DEFAULT_PARTS_CACHE) {
    this.views = new ViewStates(options.stateTtlMs);
    this.stableIds = new StableIds(options.probeIntervalMs);
    this.maxBytes = options.maxBytes ?? PARTS_CACHE_MAX_BYTES;
    this.userMaxBytes = Math.min(options.userMaxBytes ?? Math.floor(this.maxBytes / 8), this.maxBytes);
    this.rows = new LRUCache({
      maxSize: this.maxBytes,
      sizeCalculation: (value, key) => partsEntryBytes(key, value),
      dispose: (_value, key, reason) => {
        if (reason === 'evict') this.evictions++;
        this.disown(key);
      },
    });
  }

  stats(): PartsCacheStats {
    return {
      hits: { ...this.hits },
      misses: { ...this.misses },
      evictions: this.evictions,
      bytes: this.rows.calculatedSize,
      ownedBytes: this.ownedBytes,
      maxBytes: this.maxBytes,
    };
  }

  private disown(key: string): void {
    const owner = this.ownerOf.get(key);
    if (owner === undefined) return;
    this.ownerOf.delete(key);
    const share = this.owned.get(owner)!;
    const size = share.keys.get(key) ?? 0;
    share.keys.delete(key);
    share.bytes -= size;
    this.ownedBytes -= size;
    if (share.keys.size === 0) this.owned.delete(owner);
  }

  /** Stores an entry (under its hashed key); an owned one counts against its owner's share too, whose oldest entries then make room. */
  private store(key: string, value: Cached, owner: string | undefined): void {
    this.rows.set(key, value);
    // An entry larger than the whole bound is not kept (and any earlier one under its key is gone).
    if (owner === undefined || this.rows.peek(key) !== value) return;
    const size = partsEntryBytes(key, value);
    let share = this.owned.get(owner);
    if (!share) this.owned.set(owner, (share = { bytes: 0, keys: new Map() }));
    share.keys.set(key, size);
    share.bytes += size;
    this.ownedBytes += size;
    this.ownerOf.set(key, owner);
    while (share.bytes > this.userMaxBytes) {
      const oldest = share.keys.keys().next().value!;
      this.evictions++;
      this.rows.delete(oldest); // its dispose disowns it
    }
  }

  private lookup(kind: PartKind, key: string): Cached | undefined {
    // An answer's key holds its raw ranges, new on every request of a `days` window: not remembered.
    const found = this.rows.get(cacheKey(key, kind !== 'answer'));
    if (found === undefined) this.misses[kind]++;
    else this.hits[kind]++;
    return found;
  }

  /**
   * A segment's rows, if cached at `version`, or at an earlier version that `holds` says the current
   * one still matches for this segment (no cycle since changed its buckets; src/rollup/changed.ts).
   * Such a segment is kept again under `version`.
   */
  segment(key: string, version: string, holds: (readAt: string) => boolean): readonly PartRow[] | undefined {
    const hashed = cacheKey(key);
    const found = this.rows.get(hashed) as CachedSegment | undefined;
    const ok = found !== undefined && (found.version === version || holds(found.version));
    if (!ok) {
      this.misses.segment++;
      return undefined;
    }
    this.hits.segment++;
    if (found.version !== version) this.store(hashed, { version, rows: found.rows }, this.ownerOf.get(hashed));
    return found.rows;
  }

  /** `reader`: who read it; a segment their filters shaped, or an empty one, counts against their share. */
  setSegment(key: string, version: string, rows: readonly PartRow[], reader?: Reader): void {
    const value = { version, rows };
    this.store(cacheKey(key), value, ownerFor(value, reader));
  }

  window(key: string): MergedWindow | undefined {
    return this.lookup('window', key) as MergedWindow | undefined;
  }

  setWindow(key: string, window: MergedWindow, reader?: Reader): void {
    this.store(cacheKey(key), window, ownerFor(window, reader));
  }

  /** A real-time read's tail, as cached for its window (src/read/tail.ts). */
  tail(key: string): CachedTail | undefined {
    return this.lookup('tail', `tail|${key}`) as CachedTail | undefined;
  }

  setTail(key: string, tail: CachedTail, reader?: Reader): void {
    this.store(cacheKey(`tail|${key}`), tail, ownerFor(tail, reader));
  }

  /**
   * Whether a real-time answer of this window and raw ranges was asked for before (the key is then
   * remembered): only a window asked for twice keeps its answer, so windows that move every
   * millisecond (`days`) never fill the cache with answers nobody asks for again. Bounded by count.
   */
  askedBefore(key: string): boolean {
    const hashed = cacheKey(`answer|${key}`, false);
    if (this.asked.has(hashed)) return true;
    this.asked.set(hashed, true);
    return false;
  }

  /** A real-time answer's edges and tail, as cached for its window and raw ranges while nothing was in flight. */
  answer(key: string): CachedAnswer | undefined {
    return this.lookup('answer', `answer|${key}`) as CachedAnswer | undefined;
  }

  setAnswer(key: string, answer: CachedAnswer, reader?: Reader): void {
    this.store(cacheKey(`answer|${key}`, false), answer, ownerFor(answer, reader));
  }

  /** An edge bucket's partials, as cached for a request shape while nothing was in flight (src/read/edges.ts). */
  edge(key: string): CachedEdge | undefined {
    return this.lookup('edge', `edge|${key}`) as CachedEdge | undefined;
  }

  setEdge(key: string, edge: CachedEdge, reader?: Reader): void {
    this.store(cacheKey(`edge|${key}`), edge, ownerFor(edge, reader));
  }

  /** The read of this window that another request has under way, if any. */
  pending(key: string): Promise<MergedWindow> | undefined {
    return this.loading.get(cacheKey(key));
  }

  /**
   * Runs `read` as the one read of window `key`: until it settles, pending(key) hands its window to
   * concurrent misses (after a refresh every dashboard misses at once), which then need only their
   * own raw edges. If it fails, they read for themselves.
   */
  async lead<T>(key: string, read: () => Promise<T>, windowOf: (result: T) => MergedWindow): Promise<T> {
    const loading = read();
    const shared = loading.then(windowOf);
    shared.catch(() => {}); // a failure nobody waits for is not an unhandled rejection
    const hashed = cacheKey(key);
    this.loading.set(hashed, shared);
    try {
      return await loading;
    } finally {
      this.loading.delete(hashed);
    }
  }
}

/** Who stores an entry: the request's user, and whether its own filter values shaped the entry. */
export interface Reader {
  readonly user: string;
  readonly filtered: boolean;
}

/** Anonymous reads (no user given: tests, tools) share one owner. */
export const ANONYMOUS_OWNER = '';

/** Whose share an entry counts against: its reader's when filtered or empty; else nobody's (it is everyone's). */
function ownerFor(value: Cached, reader: Reader | undefined): string | undefined {
  if (reader?.filtered || isEmpty(value)) return reader?.user ?? ANONYMOUS_OWNER;
  return undefined;
}
