/**
 * p50 at this size and at the run's smallest size, measured side by side: both APIs up at once, one
 * connection, the two sizes taking turns for a few rounds. The sizes otherwise run minutes apart,
 * and on a shared 2-core machine those minutes can differ more than the sizes do (the ceiling's
 * req/s, which involves no database at all, moved by a quarter between phases of one run).
 */
import { compiledTarget, type CompiledResult } from './compiled.ts';
import { measureLoad } from './load.ts';
import { median, ratio, round } from './stats.ts';

export const PAIRED_ROUNDS = 3;

export interface PairedQuery {
  readonly query: string;
  /** p50 of each round, this size and the baseline, in the order they ran (this size first in each round). */
  readonly p50s: readonly number[];
  readonly baselineP50s: readonly number[];
  /** Medians of the rounds' p50s. */
  readonly p50: number;
  readonly baselineP50: number;
  readonly ratio: number | null;
}

export interface PairedResult {
  readonly baseline: string;
  readonly rounds: number;
  /** Seconds of each measured run (after a warm-up of the same query on the same server). */
  readonly durationS: number;
  readonly queries: readonly PairedQuery[];
}

interface Side {
  readonly baseUrl: string;
  readonly compiled: readonly CompiledResult[];
}

export async function measurePaired(
  here: Side,
  baseline: Side & { readonly label: string },
  authorization: string,
  settings: { readonly warmupS: number; readonly durationS: number },
  rounds = PAIRED_ROUNDS,
): Promise<PairedResult> {
  const durationS = Math.max(1, settings.durationS / 2);
  const queries: PairedQuery[] = [];
  for (const c of here.compiled) {
    const base = baseline.compiled.find((b) => b.query === c.query);
    if (!base) continue;
    const mine = compiledTarget(here.baseUrl, c.path, c.body, authorization);
    const theirs = compiledTarget(baseline.baseUrl, base.path, base.body, authorization);
    const p50s: number[] = [];
    const baselineP50s: number[] = [];
    for (let i = 0; i < rounds; i += 1) {
      const warmupS = i === 0 ? settings.warmupS : 0;
      p50s.push((await measureLoad(mine, 1, warmupS, durationS)).latencyMs.p50);
      baselineP50s.push((await measureLoad(theirs, 1, warmupS, durationS)).latencyMs.p50);
    }
    const p50 = round(median(p50s), 3);
    const baselineP50 = round(median(baselineP50s), 3);
    queries.push({ query: c.query, p50s, baselineP50s, p50, baselineP50, ratio: ratio(p50, baselineP50) });
  }
  return { baseline: baseline.label, rounds, durationS, queries };
}
