/**
 * Reading a compiled query's parts: whole-bucket segments from its view, raw edges from the base
 * tables, merged per group.
 *
 * Between two refreshes a view does not change, so a segment read from it (and the merge of all of
 * a request's segments) is cached under the view's version: the id of the refresh-log row its last
 * refresh committed with. A dashboard's rolling window then costs one small statement, the raw edges
 * (under a minute on each side where a minute grain exists), plus a cache miss per segment when a
 * minute, hour or day boundary passes. Everything a segment's rows depend on is in its key.
 */
import { LRUCache } from 'lru-cache';
import type { Executor } from '../db/executor.ts';
import { Params, type SqlQuery } from '../db/sql.ts';
import { readFreshness, type ViewFreshness } from '../freshness/state.ts';
import {
  coverageOf,
  coverageSql,
  planParts,
  rawSql,
  segmentSql,
  type Coverage,
  type Measure,
  type PartRow,
  type PartsPlan,
  type PartsRequest,
  type RollupSpec,
  type Segment,
} from './rollup.ts';

export interface PartsCacheOptions {
  /** How long a process trusts the view version it read last, in ms (0: read it on every request). */
  readonly stateTtlMs: number;
  /** Upper bound of cached partial rows (segments and merged windows together). */
  readonly maxRows: number;
}

export const DEFAULT_PARTS_CACHE: PartsCacheOptions = Object.freeze({ stateTtlMs: 1000, maxRows: 200_000 });

/** A window's segments merged: one partial row per group; `ranked` filled on the first ranked read. */
export interface MergedWindow {
  readonly groups: ReadonlyMap<string, PartRow>;
  ranked?: readonly (readonly [string, PartRow])[];
}

type Cached = readonly PartRow[] | MergedWindow;

interface Versioned {
  readonly state: ViewFreshness;
  readonly at: number;
  coverage?: Promise<Coverage>;
}

/** Per process: the views' versions (briefly), their recent-tier coverage, segments and merged windows. */
export class PartsCache {
  private readonly states = new Map<string, Versioned>();
  private readonly rows: LRUCache<string, Cached>;
  /** Windows being read from the view right now, so concurrent misses of one window wait for one read. */
  readonly loading = new Map<string, Promise<MergedWindow>>();

  constructor(readonly options: PartsCacheOptions = DEFAULT_PARTS_CACHE) {
    this.rows = new LRUCache({
      maxSize: options.maxRows,
      sizeCalculation: (v) => ('groups' in v ? 2 * v.groups.size : v.length) + 1,
    });
  }

  /** The view's refresh state, re-read when older than stateTtlMs (wall clock). */
  async state(executor: Executor, view: string): Promise<Versioned> {
    const now = Date.now();
    const known = this.states.get(view);
    if (known && now - known.at < this.options.stateTtlMs) return known;
    const state = (await readFreshness(executor, [view])).get(view)!;
    const fresh: Versioned = known && known.state.version === state.version ? { ...known, state, at: now } : { state, at: now };
    this.states.set(view, fresh);
    return fresh;
  }

  get(key: string): Cached | undefined {
    return this.rows.get(key);
  }

  set(key: string, value: Cached): void {
    this.rows.set(key, value);
  }
}

/** The answer's groups before finalising: every group, or the first `limit` of a ranking. */
export interface Page {
  readonly rows: readonly PartRow[];
  readonly truncated: boolean;
}

export interface PartsResult {
  readonly page: Page;
  readonly state: ViewFreshness;
}

/**
 * For answers that list the first `limit` groups in an order: the merged window is sorted once and
 * cached, and a read only places the few groups its raw edges changed, instead of sorting them all.
 */
export interface Ranking {
  /** Groups that belong in the answer at all (every group when absent). */
  readonly keep?: (row: PartRow) => boolean;
  readonly compare: (a: PartRow, b: PartRow) => number;
  readonly limit: number;
}

function keyOf(groupDims: readonly string[], bucketed: boolean, row: PartRow): string {
  if (groupDims.length === 1 && !bucketed) return String(row[groupDims[0]!] ?? '\u0000null');
  const k: unknown[] = groupDims.map((d) => row[d]);
  if (bucketed) k.push(row.t);
  return JSON.stringify(k);
}

function combine(m: Measure, a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return m.combine === 'sum' ? a + b : m.combine === 'min' ? Math.min(a, b) : Math.max(a, b);
}

/**
 * Adds rows into `into` (groups already there, else in `base`), never mutating a row it did not
 * create: cached rows are shared between reads.
 */
function mergeInto(spec: RollupSpec, req: PartsRequest, into: Map<string, PartRow>, rows: Iterable<PartRow>, base?: ReadonlyMap<string, PartRow>): void {
  const measures = Object.entries(spec.measures);
  const owned = new Set<PartRow>();
  for (const row of rows) {
    if (measures.every(([name]) => row[name] === null)) continue; // an empty aggregate
    const key = keyOf(req.groupDims, req.bucketGrain !== undefined, row);
    const have = into.get(key) ?? base?.get(key);
    if (!have) {
      into.set(key, row);
      continue;
    }
    const sum = owned.has(have) ? have : { ...have };
    for (const [name, m] of measures) sum[name] = combine(m, sum[name] as number | null, row[name] as number | null);
    owned.add(sum);
    into.set(key, sum);
  }
}

/** The window's groups with the raw edges' groups (`changed`) in place of or beside them. */
export function pageOf(window: MergedWindow, changed: ReadonlyMap<string, PartRow>, rank: Ranking | undefined): Page {
  const { groups } = window;
  if (!rank) {
    if (!changed.size) return { rows: [...groups.values()], truncated: false };
    const rows = [...groups].map(([k, r]) => changed.get(k) ?? r);
    for (const [k, r] of changed) if (!groups.has(k)) rows.push(r);
    return { rows, truncated: false };
  }
  const keep = rank.keep ?? (() => true);
  const ranked = (window.ranked ??= [...groups].filter(([, r]) => keep(r)).sort(([, a], [, b]) => rank.compare(a, b)));
  if (!changed.size) return { rows: ranked.slice(0, rank.limit).map(([, r]) => r), truncated: ranked.length > rank.limit };
  const extra = [...changed.values()].filter(keep).sort(rank.compare);
  let total = ranked.length + extra.length;
  for (const k of changed.keys()) {
    const old = groups.get(k);
    if (old && keep(old)) total--;
  }
  const rows: PartRow[] = [];
  let i = 0;
  let j = 0;
  while (rows.length < rank.limit) {
    while (i < ranked.length && changed.has(ranked[i]![0])) i++;
    const a = ranked[i]?.[1];
    const b = extra[j];
    if (a === undefined && b === undefined) break;
    if (b === undefined || (a !== undefined && rank.compare(a, b) <= 0)) {
      rows.push(a!);
      i++;
    } else {
      rows.push(b);
      j++;
    }
  }
  return { rows, truncated: total > rank.limit };
}

const RAW_PART = -1;

/** One statement: the given segments (by index into the plan) and the raw edges; undefined when it would read nothing. */
function partsStatement(spec: RollupSpec, plan: PartsPlan, req: PartsRequest, segments: readonly number[]): SqlQuery | undefined {
  const p = new Params();
  const selects = segments.map((i) => segmentSql(spec, plan.level!, plan.segments[i]!, req, p, i));
  if (plan.raw.length) selects.push(rawSql(spec, plan.raw, req, p, RAW_PART));
  return selects.length ? { text: selects.join('\nUNION ALL\n'), values: p.values } : undefined;
}

/** Where the view's recent tiers start (an empty map for a view without one: no statement). */
async function readCoverage(spec: RollupSpec, executor: Executor): Promise<Coverage> {
  const sql = coverageSql(spec);
  return sql ? coverageOf(spec, (await executor.query({ text: sql, values: [] }))[0]) : new Map();
}

/**
 * The statements a request runs, for EXPLAIN: cold (every segment and the raw edges, as on a cache
 * miss) and warm (the raw edges alone, as when its segments are cached; undefined when it has none).
 */
export async function partsStatements(spec: RollupSpec, req: PartsRequest, executor: Executor): Promise<{ cold: SqlQuery; warm?: SqlQuery }> {
  const plan = planParts(spec, req, await readCoverage(spec, executor));
  const cold = partsStatement(spec, plan, req, plan.segments.map((_, i) => i))!;
  const warm = plan.raw.length ? partsStatement(spec, plan, req, []) : undefined;
  return warm ? { cold, warm } : { cold };
}

const stripPart = ({ part: _part, ...row }: PartRow): PartRow => row;

/**
 * The merged partial aggregates of a request (ranked when `rank` is given). One statement at most:
 * the raw edges plus whatever segments the cache lacks, tagged by `part`.
 */
export async function readParts(spec: RollupSpec, req: PartsRequest, executor: Executor, cache: PartsCache, rank?: Ranking): Promise<PartsResult> {
  const versioned = await cache.state(executor, spec.view);
  const { state } = versioned;
  // Never refreshed (or unpopulated): nothing is cached, and reading the view reports not_ready.
  const cacheable = state.version !== null;
  let coverage: Coverage = new Map();
  if (cacheable) {
    versioned.coverage ??= readCoverage(spec, executor);
    try {
      coverage = await versioned.coverage;
    } catch (err) {
      versioned.coverage = undefined;
      throw err;
    }
  }
  const plan = planParts(spec, req, coverage);
  const base = JSON.stringify([
    spec.view,
    state.version,
    plan.level?.id,
    req.groupDims,
    req.bucketGrain ?? null,
    Object.entries(req.filters).sort(([a], [b]) => (a < b ? -1 : 1)),
    req.access,
  ]);
  const segKey = (s: Segment) => `${base}|${s.grain}|${s.range.from}|${s.range.to}`;
  const windowKey = `${base}|${plan.segments.map((s) => `${s.grain}:${s.range.from}:${s.range.to}`).join(',')}`;

  let window = cacheable ? (cache.get(windowKey) as MergedWindow | undefined) : undefined;
  // Another request is reading this window's segments (after a refresh, every dashboard misses at
  // once): wait for its read rather than run the same heavy statement again. If it fails, read here.
  const pending = window || !cacheable ? undefined : cache.loading.get(windowKey);
  if (pending) window = await pending.catch(() => undefined);
  const segments = window ? [] : plan.segments.map((s) => (cacheable ? (cache.get(segKey(s)) as readonly PartRow[] | undefined) : undefined));
  const missing = window ? [] : plan.segments.flatMap((_, i) => (segments[i] ? [] : [i]));
  const statement = partsStatement(spec, plan, req, missing);

  const read = async (): Promise<{ raw: PartRow[]; window: MergedWindow }> => {
    const fetched = statement ? await executor.query<PartRow>(statement) : [];
    const raw: PartRow[] = [];
    const fresh = new Map<number, PartRow[]>();
    for (const row of fetched) {
      const part = row.part as number;
      if (part === RAW_PART) raw.push(stripPart(row));
      else {
        let list = fresh.get(part);
        if (!list) fresh.set(part, (list = []));
        list.push(stripPart(row));
      }
    }
    if (window) return { raw, window };
    const groups = new Map<string, PartRow>();
    plan.segments.forEach((s, i) => {
      let rows = segments[i];
      if (!rows) {
        rows = Object.freeze(fresh.get(i) ?? []);
        if (cacheable) cache.set(segKey(s), rows);
      }
      mergeInto(spec, req, groups, rows);
    });
    const merged: MergedWindow = { groups };
    if (cacheable) cache.set(windowKey, merged);
    return { raw, window: merged };
  };
  let result: { raw: PartRow[]; window: MergedWindow };
  if (!window && cacheable && !cache.loading.has(windowKey)) {
    // This request reads the window; concurrent misses of it wait for this read (see above).
    const loading = read();
    const shared = loading.then((r) => r.window);
    shared.catch(() => {}); // a failure nobody waits for is not an unhandled rejection
    cache.loading.set(windowKey, shared);
    try {
      result = await loading;
    } finally {
      cache.loading.delete(windowKey);
    }
  } else {
    result = await read();
  }
  const { raw } = result;
  window = result.window;
  const changed = new Map<string, PartRow>();
  mergeInto(spec, req, changed, raw, window.groups);
  return { page: pageOf(window, changed, rank), state };
}
