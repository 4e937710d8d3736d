/**
 * The per-process cache of a view's parts: whole-bucket segments (kept with the view version they were
 * read at, and used at a later version while no cycle since changed their buckets) and merged windows
 * (keyed by the version: a refresh makes them unreachable, and the LRU ages them out), bounded in rows;
 * and the reads of windows under way, so concurrent misses of one window wait for a single read.
 */
import { LRUCache } from 'lru-cache';
import type { MergedWindow } from './merge.ts';
import type { PartRow } from './rollup.ts';
import { StableIds } from './stable-ids.ts';
import type { CachedTail } from './tail.ts';
import { ViewStates } from './view-state.ts';

export interface PartsCacheOptions {
  /** How long a process trusts the view version it read last, in ms (0: read it on every request). */
  readonly stateTtlMs: number;
  /** Upper bound of cached partial rows (segments and merged windows together). */
  readonly maxRows: number;
  /** How often the stable job id is probed, in ms (src/queries/stable-ids.ts; default 200). */
  readonly probeIntervalMs?: number;
}

export const DEFAULT_PARTS_CACHE: PartsCacheOptions = Object.freeze({ stateTtlMs: 1000, maxRows: 200_000 });

/** A segment's rows and the view version they were read at (a later version may still hold them). */
interface CachedSegment {
  readonly version: string;
  readonly rows: readonly PartRow[];
}
type Cached = CachedSegment | MergedWindow | CachedTail;

/** What a lookup asks for: a whole-bucket segment, a merged window, or a real-time tail. */
export type PartKind = 'segment' | 'window' | 'tail';
export const PART_KINDS: readonly PartKind[] = Object.freeze(['segment', 'window', 'tail']);

/**
 * Counts since the cache was made, for whoever wants to report them (the metrics read them on each
 * scrape, src/metrics/api.ts); the cache itself knows nothing of how they are exported.
 */
export interface PartsCacheStats {
  readonly hits: Readonly<Record<PartKind, number>>;
  readonly misses: Readonly<Record<PartKind, number>>;
  /** Entries dropped to keep the cache within maxRows. */
  readonly evictions: number;
  /** Rows held now, as counted against maxRows. */
  readonly rows: number;
}

const zeroes = (): Record<PartKind, number> => ({ segment: 0, window: 0, tail: 0 });

export class PartsCache {
  /** The views' versions (briefly) and their recent-tier coverage. */
  readonly views: ViewStates;
  private readonly rows: LRUCache<string, Cached>;
  /** Windows being read from the view right now. */
  readonly loading = new Map<string, Promise<MergedWindow>>();
  /** The job id up to which real-time tails may be cached (src/queries/stable-ids.ts). */
  readonly stableIds: StableIds;
  private readonly hits = zeroes();
  private readonly misses = zeroes();
  private evictions = 0;

  constructor(readonly options: PartsCacheOptions = DEFAULT_PARTS_CACHE) {
    this.views = new ViewStates(options.stateTtlMs);
    this.stableIds = new StableIds(options.probeIntervalMs);
    this.rows = new LRUCache({
      maxSize: options.maxRows,
      sizeCalculation: (v) => ('groups' in v ? 2 * v.groups.size : v.rows.length) + 1,
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') this.evictions++;
      },
    });
  }

  stats(): PartsCacheStats {
    return { hits: { ...this.hits }, misses: { ...this.misses }, evictions: this.evictions, rows: this.rows.calculatedSize };
  }

  private lookup(kind: PartKind, key: string): Cached | undefined {
    const found = this.rows.get(key);
    if (found === undefined) this.misses[kind]++;
    else this.hits[kind]++;
    return found;
  }

  /**
   * A segment's rows, if cached at `version`, or at an earlier version that `holds` says the current
   * one still matches for this segment (no cycle since changed its buckets; src/maintenance/changed.ts).
   * Such a segment is kept again under `version`.
   */
  segment(key: string, version: string, holds: (readAt: string) => boolean): readonly PartRow[] | undefined {
    const found = this.rows.get(key) as CachedSegment | undefined;
    const ok = found !== undefined && (found.version === version || holds(found.version));
    if (!ok) {
      this.misses.segment++;
      return undefined;
    }
    this.hits.segment++;
    if (found.version !== version) this.rows.set(key, { version, rows: found.rows });
    return found.rows;
  }

  setSegment(key: string, version: string, rows: readonly PartRow[]): void {
    this.rows.set(key, { version, rows });
  }

  window(key: string): MergedWindow | undefined {
    return this.lookup('window', key) as MergedWindow | undefined;
  }

  setWindow(key: string, window: MergedWindow): void {
    this.rows.set(key, window);
  }

  /** A real-time read's tail, as cached for its window (src/queries/tail.ts). */
  tail(key: string): CachedTail | undefined {
    return this.lookup('tail', `tail|${key}`) as CachedTail | undefined;
  }

  setTail(key: string, tail: CachedTail): void {
    this.rows.set(`tail|${key}`, tail);
  }

  /** The read of this window that another request has under way, if any. */
  pending(key: string): Promise<MergedWindow> | undefined {
    return this.loading.get(key);
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
    this.loading.set(key, shared);
    try {
      return await loading;
    } finally {
      this.loading.delete(key);
    }
  }
}
