/**
 * What each compiled query replaces: the same aggregation computed on the fly over the base tables,
 * by the oracle the exactness tests use (test/helpers/oracle.ts), never through the rollup engine.
 * The harness times it and checks that the API answered exactly the same rows.
 */
import type { SqlQuery } from '../src/db/sql.ts';
import type { TimeWindow } from '../src/rollup/window.ts';
import { oracle } from '../test/helpers/oracle.ts';

/** The parameters the API applied (its defaults filled in), as returned in the response's `params`. */
export interface AppliedParams {
  readonly group_by?: readonly string[];
  readonly limit?: number;
  readonly bucket?: 'hour' | 'day';
}

/** The on-the-fly statement for a compiled query's request: the exactness tests' oracle, unfiltered. */
export function onTheFly(queryName: string, window: TimeWindow, params: AppliedParams): SqlQuery {
  return oracle(queryName, window, params);
}

type Row = Readonly<Record<string, unknown>>;

function sameValue(a: unknown, e: unknown): boolean {
  if (typeof a === 'number' && typeof e === 'number') {
    return a === e || Math.abs(a - e) <= 1e-9 * Math.max(1, Math.abs(e));
  }
  return a === e;
}

/** null when the rows agree; otherwise the first difference, in words. */
export function firstDifference(actual: readonly Row[], expected: readonly Row[]): string | null {
  if (actual.length !== expected.length) return `${actual.length} rows, expected ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const keys = Object.keys(e);
    if (Object.keys(a).length !== keys.length) return `row ${i}: columns ${Object.keys(a).join(',')}, expected ${keys.join(',')}`;
    for (const k of keys) {
      if (!sameValue(a[k], e[k])) return `row ${i} ${k}: ${JSON.stringify(a[k])}, expected ${JSON.stringify(e[k])}`;
    }
  }
  return null;
}
