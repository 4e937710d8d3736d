/**
 * Merging partial aggregates: rows of one group (from segments, or from the raw edges) combine
 * measure by measure as each measure declares (sum, min or max), so ratios and averages are computed
 * from summed parts later, never averaged.
 */
import type { Measure, PartRow, PartsRequest, RollupSpec } from '../rollup/spec.ts';

/** A window's segments merged: one partial row per group; `ranked` filled on the first ranked read. */
export interface MergedWindow {
  readonly groups: ReadonlyMap<string, PartRow>;
  ranked?: readonly (readonly [string, PartRow])[];
}

/** A group's key: its dimension values (and bucket, for a bucketed answer). */
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
export function mergeInto(spec: RollupSpec, req: PartsRequest, into: Map<string, PartRow>, rows: Iterable<PartRow>, base?: ReadonlyMap<string, PartRow>): void {
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
