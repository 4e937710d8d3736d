/**
 * Reads during refreshes: 16 connections of reads, first alone, then for the whole of a forced
 * maintenance cycle of every view (`npm run refresh -- --force`), then for the whole of a rebuild
 * (`--rebuild`, which recomputes history from the base tables). Each phase's p50/p99 side by side,
 * and every answer that was not a 200.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { summarize } from '../../bench/stats.ts';
import { startService } from '../helpers/service-process.ts';
import type { ChaosCluster } from './cluster.ts';
import { startLoad, type Sample } from './load.ts';
import { requestMix } from './outage.ts';

export interface ReadPhase {
  readonly phase: string;
  readonly seconds: number;
  readonly requests: number;
  readonly reqPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** The first few answers that were not a 200: when, status, error type, what was asked. */
  readonly failures: readonly { readonly at: string; readonly ms: number; readonly status: number; readonly type?: string; readonly path: string }[];
  /** The refresh command's exit code, for the phases that ran one. */
  readonly refreshExit?: number | null;
}

function summary(phase: string, samples: readonly Sample[], ms: number, refreshExit?: number | null): ReadPhase {
  const lat = summarize(samples.map((s) => s.ms));
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    phase,
    seconds: round(ms / 1000),
    requests: samples.length,
    reqPerS: Math.round(samples.length / (ms / 1000)),
    p50Ms: round(lat.p50),
    p99Ms: round(lat.p99),
    errors: samples.filter((s) => s.status !== 200).length,
    failures: samples
      .filter((s) => s.status !== 200)
      .slice(0, 5)
      .map((s) => ({ at: new Date(s.t).toISOString(), ms: Math.round(s.ms), status: s.status, type: s.type, path: s.path })),
    ...(refreshExit === undefined ? {} : { refreshExit }),
  };
}

export async function refreshLoadScenario(cluster: ChaosCluster, base: string, connections = 16, baselineMs = 10_000): Promise<ReadPhase[]> {
  const mix = requestMix(Date.now());
  const bearer = cluster.bearer('alice');
  const phases: ReadPhase[] = [];
  {
    const t0 = Date.now();
    const load = startLoad(base, bearer, connections, (i) => mix[i % mix.length]!);
    await delay(baselineMs);
    phases.push(summary('reads alone', await load.stop(), Date.now() - t0));
  }
  for (const args of [['--force'], ['--rebuild']]) {
    const t0 = Date.now();
    const load = startLoad(base, bearer, connections, (i) => mix[i % mix.length]!);
    const refresh = startService('src/cli/refresh.ts', cluster.env, args);
    const code = await refresh.exitCode(3_600_000);
    phases.push(summary(`reads during refresh ${args.join(' ')}`, await load.stop(), Date.now() - t0, code));
  }
  return phases;
}
