/**
 * A real-time read's raw edges from this process while nothing is in flight (issue 30).
 *
 * A window relative to now (`days`) moves every millisecond, so its raw edges (the base tables'
 * facts between the window's ends and its first and last whole buckets) differ on every request,
 * and reading them was the one statement such a read still ran. But an edge lies within one minute
 * (or hour) bucket, and while the stable-id probe finds nothing in flight (src/read/stable-ids.ts:
 * every drawn id stable, no orphan or held-back job, the same cycle) the facts of that bucket are
 * the ones the last read of it saw. So the bucket is read once, per group and fact time, and each
 * edge within it is a range of those rows: a `days` window then reads the database only when a
 * bucket boundary passes or something is written. Deletes and updates that draw no id reach these
 * edges at the next cycle, as they reach the cached tail (docs/ARCHITECTURE.md, "Real-time answers").
 */
import type { Executor } from '../db/executor.ts';
import { Params } from '../db/sql.ts';
import type { PartRow, PartsRequest, RollupSpec } from '../rollup/spec.ts';
import { HOUR_MS, MINUTE_MS, type Range } from '../rollup/window.ts';
import type { CachedEdge, PartsCache, Reader } from './parts-cache.ts';
import { EDGE_TS, edgeSql } from './plan.ts';
import { statementName } from './parts-statement.ts';
import type { Quiet } from './stable-ids.ts';

/** Bucket sizes an edge may be read in, finest first: an edge spanning more is read from the base tables each time. */
const EDGE_BUCKETS_MS = [MINUTE_MS, HOUR_MS] as const;

/** The finest bucket (of EDGE_BUCKETS_MS, aligned to the epoch) holding all of `r`; undefined if none does. */
export function edgeBucket(r: Range): Range | undefined {
  for (const size of EDGE_BUCKETS_MS) {
    const from = r.from - (((r.from % size) + size) % size);
    if (r.to <= from + size) return { from, to: from + size };
  }
  return undefined;
}

/** The first index of ascending `ts` whose value is at least `at`. */
function lowerBound(ts: readonly number[], at: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A bucket's rows as fetched (tagged by `part`, with their fact time) into a cached edge: ascending by time, tag and time stripped. */
function edgeOf(rows: readonly PartRow[], quiet: Quiet): CachedEdge {
  const sorted = [...rows].sort((a, b) => (a[EDGE_TS] as number) - (b[EDGE_TS] as number));
  return {
    stable: quiet.stable,
    cycle: quiet.cycle,
    ts: sorted.map((r) => r[EDGE_TS] as number),
    rows: Object.freeze(sorted.map(({ part: _part, [EDGE_TS]: _ts, ...row }) => Object.freeze(row))),
  };
}

export interface EdgeRead {
  readonly spec: RollupSpec;
  readonly req: PartsRequest;
  /** The read's request shape and database (part of every cache key). */
  readonly key: string;
  readonly quiet: Quiet;
  readonly reader: Reader;
}

/**
 * Whether the raw ranges can be taken from edge buckets: each lies within one (a window's edges;
 * a range no level covers, which spans hours or more, does not).
 */
export function edgesServe(ranges: readonly Range[]): boolean {
  return ranges.length > 0 && ranges.every((r) => edgeBucket(r) !== undefined);
}

/**
 * The partials of the facts within `ranges` (each within an edge bucket: edgesServe), from the edge
 * buckets this process holds for the same quiet finding, reading the others in one statement first.
 */
/** Each edge bucket as read (an edge read again is another, even under the same quiet finding). */
const EDGE_IDS = new WeakMap<CachedEdge, number>();
let edgesRead = 0;
function edgeId(edge: CachedEdge): number {
  let id = EDGE_IDS.get(edge);
  if (id === undefined) EDGE_IDS.set(edge, (id = ++edgesRead));
  return id;
}

export interface EdgePartials {
  readonly rows: PartRow[];
  /**
   * Which rows those are: per range, the edge bucket as read and the index range of its rows it took.
   * Two reads under the same quiet finding with the same signature took the same rows, so a window
   * that moves without carrying a fact across an edge has the answer of its last read (src/read/parts.ts).
   */
  readonly signature: string;
}

export async function edgePartials(read: EdgeRead, ranges: readonly Range[], executor: Executor, cache: PartsCache): Promise<EdgePartials> {
  const buckets = ranges.map((r) => edgeBucket(r)!);
  const keyOf = (b: Range) => `${read.key}|${b.from}|${b.to}`;
  const held = new Map<string, CachedEdge>();
  const missing: Range[] = [];
  for (const b of buckets) {
    const k = keyOf(b);
    if (held.has(k) || missing.some((m) => m.from === b.from && m.to === b.to)) continue;
    const found = cache.edge(k);
    if (found && found.stable === read.quiet.stable && found.cycle === read.quiet.cycle) held.set(k, found);
    else missing.push(b);
  }
  if (missing.length) {
    const p = new Params();
    const text = edgeSql(read.spec, missing, read.req, p);
    const rows = await executor.query<PartRow>({ text, values: p.values, name: statementName(text) });
    missing.forEach((b, i) => {
      const edge = edgeOf(
        rows.filter((r) => r.part === i),
        read.quiet,
      );
      held.set(keyOf(b), edge);
      cache.setEdge(keyOf(b), edge, read.reader);
    });
  }
  const rows: PartRow[] = [];
  const taken: string[] = [];
  ranges.forEach((r, i) => {
    const bucket = buckets[i]!;
    const edge = held.get(keyOf(bucket))!;
    const from = lowerBound(edge.ts, r.from);
    const end = lowerBound(edge.ts, r.to);
    for (let j = from; j < end; j++) rows.push(edge.rows[j]!);
    taken.push(`${edgeId(edge)}:${from}-${end}`);
  });
  return { rows, signature: taken.join(',') };
}
