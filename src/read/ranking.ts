/**
 * The page of groups an answer shows: every group, or the first `limit` of a ranking. A ranked
 * window is sorted once per cached window; a read only places the few groups its raw edges changed.
 */
import type { MergedWindow } from './merge.ts';
import type { PartRow } from '../rollup/spec.ts';
import type { Page, Ranking } from '../declarations/types.ts';

/**
 * Pages made from a `changed` map an answer keeps (src/read/parts.ts: a poll's, a moving window's),
 * per window and limit: read again with the same window, its page is the same. Weakly held, gone
 * with the map. A window's shape decides its ranking (as `MergedWindow.ranked` already assumes).
 */
const PAGES = new WeakMap<ReadonlyMap<string, PartRow>, { readonly window: MergedWindow; readonly byLimit: Map<number, Page> }>();
/** Limits one kept map's pages are held for (a dashboard asks one or two). */
const LIMITS_KEPT = 4;

/**
 * The window's groups with the raw edges' groups (`changed`) in place of or beside them. `kept`:
 * `changed` is held by the parts cache and will be read again, so its page is kept with it.
 */
export function pageOf(window: MergedWindow, changed: ReadonlyMap<string, PartRow>, rank: Ranking | undefined, kept = false): Page {
  if (!kept) return makePage(window, changed, rank);
  const limit = rank?.limit ?? -1;
  let pages = PAGES.get(changed);
  if (pages?.window !== window) PAGES.set(changed, (pages = { window, byLimit: new Map() }));
  let page = pages.byLimit.get(limit);
  if (page === undefined) {
    page = makePage(window, changed, rank);
    if (pages.byLimit.size >= LIMITS_KEPT) pages.byLimit.clear();
    pages.byLimit.set(limit, page);
  }
  return page;
}

function makePage(window: MergedWindow, changed: ReadonlyMap<string, PartRow>, rank: Ranking | undefined): Page {
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
