/**
 * Reading a compiled query's parts: whole-bucket segments from its view, raw edges from the base
 * tables, merged per group.
 *
 * Between two refreshes a view does not change, so a segment read from it (and the merge of all of
 * a request's segments) is cached under the view's version: the id of the refresh-log row its last
 * refresh committed with. A dashboard's rolling window then costs one small statement, the raw edges
 * (under a minute on each side where a minute grain exists), plus a cache miss per segment when a
 * minute, hour or day boundary passes. Everything a segment's rows depend on is in its key.
 *
 * The pieces live beside this file: view-state.ts (versions), parts-cache.ts (cache, single read),
 * parts-statement.ts (the SQL), merge.ts (combining partials), ranking.ts (the page).
 */
import type { Executor } from '../db/executor.ts';
import type { ViewFreshness } from '../freshness/state.ts';
import { mergeInto, type MergedWindow } from './merge.ts';
import type { PartsCache } from './parts-cache.ts';
import { partsStatement, RAW_PART, stripPart } from './parts-statement.ts';
import { pageOf, type Page, type Ranking } from './ranking.ts';
import { planParts, type PartRow, type PartsRequest, type RollupSpec, type Segment } from './rollup.ts';

export interface PartsResult {
  readonly page: Page;
  readonly state: ViewFreshness;
}

/**
 * The merged partial aggregates of a request (ranked when `rank` is given). One statement at most:
 * the raw edges plus whatever segments the cache lacks, tagged by `part`.
 */
export async function readParts(spec: RollupSpec, req: PartsRequest, executor: Executor, cache: PartsCache, rank?: Ranking): Promise<PartsResult> {
  const { state, coverage } = await cache.views.read(executor, spec);
  // Never refreshed (or unpopulated): nothing is cached, and reading the view reports not_ready.
  const cacheable = state.version !== null;
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

  let window = cacheable ? cache.window(windowKey) : undefined;
  // Another request is reading this window's segments: wait for its read rather than run the same
  // heavy statement again. If it fails, read here.
  const pending = window || !cacheable ? undefined : cache.pending(windowKey);
  if (pending) window = await pending.catch(() => undefined);
  const segments = window ? [] : plan.segments.map((s) => (cacheable ? cache.segment(segKey(s)) : undefined));
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
        if (cacheable) cache.setSegment(segKey(s), rows);
      }
      mergeInto(spec, req, groups, rows);
    });
    const merged: MergedWindow = { groups };
    if (cacheable) cache.setWindow(windowKey, merged);
    return { raw, window: merged };
  };
  // This request reads the window; concurrent misses of it wait for this read (see above).
  const leads = !window && cacheable && !cache.pending(windowKey);
  const result = leads ? await cache.lead(windowKey, read, (r) => r.window) : await read();
  const changed = new Map<string, PartRow>();
  mergeInto(spec, req, changed, result.raw, result.window.groups);
  return { page: pageOf(result.window, changed, rank), state };
}
