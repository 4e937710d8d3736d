/**
 * The result model of one dataset size, and the ratios worth reading: relative figures travel
 * between machines where absolute times do not.
 */
import type { UnnamedSide } from './unnamed.ts';
import type { RealtimeResult } from './realtime.ts';
import type { TimeWindow } from '../src/rollup/window.ts';
import type { CeilingResult } from './ceiling.ts';
import type { CompiledResult } from './compiled.ts';
import type { DatasetResult } from './dataset.ts';
import type { LambdaResult } from './lambda.ts';
import type { Machine } from './machine.ts';
import type { PairedResult } from './paired.ts';
import type { BenchOptions } from './options.ts';
import type { RawResult } from './raw.ts';
import { ratio } from './stats.ts';

/** The options that shape the measurements, recorded with every result. */
export type RunSettings = Pick<BenchOptions, 'durationS' | 'warmupS' | 'connections' | 'rawPages' | 'rawPageLimit' | 'flyRuns' | 'lambdaRuns' | 'smoke'>;

export interface ApiProcess {
  readonly command: string;
  readonly poolMax: number;
  readonly healthStatus: number;
  /** VmHWM right after the compiled-query load, and at the end (after raw paging too). */
  readonly peakRssAfterLoadBytes: number | null;
  readonly peakRssAtEndBytes: number | null;
}

export interface Ratios {
  /** The size this run compares against: its smallest. */
  readonly baseline: string;
  readonly perQuery: readonly {
    readonly query: string;
    readonly onTheFlyVsCompiled: number | null;
    readonly onTheFlyVsCompiledStatement: number | null;
    readonly p50VsBaseline: number | null;
    readonly rpsVsCeiling: number | null;
    /** req/s at N connections / the one-statement ceiling's (the same route plus one SELECT 1). */
    readonly rpsVsStatementCeiling: number | null;
    /** The same for the `days` window (moves every ms: a statement per request). */
    readonly daysRpsVsStatementCeiling: number | null;
  }[];
  /** Raw bytes (extrapolated when sampled) / failed_jobs answer bytes. */
  readonly rawBytesVsCompiled: number | null;
  /** Raw paging time / failed_jobs p50 at one connection. */
  readonly rawTimeVsCompiled: number | null;
}

export interface Target {
  readonly target: string;
  readonly value: string;
  /** null: not applicable at this size or not measured. */
  readonly met: boolean | null;
  readonly note?: string;
}

export interface SizeResult {
  readonly label: string;
  readonly date: string;
  readonly startedAt: string;
  readonly settings: RunSettings;
  readonly machine: Machine;
  /** os.loadavg() (1, 5, 15 min) when the size started and ended: other work on the machine shows here. */
  readonly systemLoad: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly dataset: DatasetResult;
  readonly window: TimeWindow;
  readonly api: ApiProcess;
  readonly compiled: readonly CompiledResult[];
  /** p50 here and at the run's smallest size, side by side (null at the smallest size). */
  readonly paired: PairedResult | null;
  /** With --unnamed-beside: the `days: 7` loads beside an API whose statements are all unnamed (bench/unnamed.ts). */
  readonly unnamed?: readonly UnnamedSide[];
  readonly raw: RawResult;
  /** p50 of the runs topic's queries with writes unabsorbed against nothing unabsorbed, taking turns. */
  readonly realtime: RealtimeResult;
  readonly ceiling: CeilingResult;
  /** The HTTP ceiling plus one `SELECT 1` through pg a request. */
  readonly statementCeiling: CeilingResult;
  readonly lambda: LambdaResult;
  readonly ratios: Ratios;
  readonly targets: readonly Target[];
  /** EXPLAIN (ANALYZE, BUFFERS) of the compiled query slowest at one connection. */
  readonly slowestPlan: { readonly query: string; readonly text: string };
}

/** 100000 -> "100k", 1000000 -> "1M"; anything not round stays a plain number. */
export function sizeLabel(jobs: number): string {
  if (jobs % 1_000_000 === 0) return `${jobs / 1_000_000}M`;
  if (jobs % 1_000 === 0) return `${jobs / 1_000}k`;
  return String(jobs);
}

/** The compiled answer the raw path replaces (and whose size the ceiling copies). */
export const RAW_QUERY = 'failed_jobs';

export function computeRatios(
  label: string,
  compiled: readonly CompiledResult[],
  raw: RawResult,
  ceiling: CeilingResult,
  baseline: { label: string; compiled: readonly CompiledResult[] },
  statementCeiling: CeilingResult,
): Ratios {
  const failed = compiled.find((c) => c.query === RAW_QUERY);
  return {
    baseline: baseline.label,
    perQuery: compiled.map((c) => {
      const base = baseline.compiled.find((b) => b.query === c.query);
      return {
        query: c.query,
        onTheFlyVsCompiled: c.speedup,
        onTheFlyVsCompiledStatement: c.statementSpeedup,
        p50VsBaseline: base && baseline.label !== label ? ratio(c.oneConnection.latencyMs.p50, base.oneConnection.latencyMs.p50) : null,
        rpsVsCeiling: ratio(c.concurrent.requestsPerSecond, ceiling.concurrent.requestsPerSecond),
        rpsVsStatementCeiling: ratio(c.concurrent.requestsPerSecond, statementCeiling.concurrent.requestsPerSecond),
        daysRpsVsStatementCeiling: ratio(c.days.concurrent.requestsPerSecond, statementCeiling.concurrent.requestsPerSecond),
      };
    }),
    rawBytesVsCompiled: failed ? ratio(raw.totalBytes, failed.responseBytes) : null,
    rawTimeVsCompiled: failed ? ratio(raw.totalMs, failed.oneConnection.latencyMs.p50) : null,
  };
}
