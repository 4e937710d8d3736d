/**
 * The harness's options: command-line flags, their defaults, and the smoke preset. Parsed once here
 * so every stage receives plain typed values.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Jobs per dataset, one fresh database each, measured in ascending order. Runs = jobs / 5. */
  readonly jobs: readonly number[];
  /** Seconds of each measured load run. */
  readonly durationS: number;
  /** Seconds of the warm-up before each measured load run (not recorded). */
  readonly warmupS: number;
  /** Connections of the concurrent load run (the other run uses one). */
  readonly connections: number;
  /** Raw-rows pages fetched at most; beyond that the total is extrapolated from the window's row count. */
  readonly rawPages: number;
  /** Rows per raw page: the endpoint's maximum, as a client paging everything would ask for. */
  readonly rawPageLimit: number;
  /** Sequential runs of each on-the-fly aggregation and of each EXPLAIN. */
  readonly flyRuns: number;
  /** Fresh processes per Lambda cold-start measurement. */
  readonly lambdaRuns: number;
  readonly seed: number;
  readonly outDir: string;
  /** Keep the embedded cluster's folder (and the per-size databases) after the run. */
  readonly keep: boolean;
  readonly smoke: boolean;
  /** Measure the `days: 7` loads beside an API with DB_PREPARED_MAX=0 (bench/unnamed.ts). */
  readonly unnamedBeside: boolean;
  /** An existing server: one fresh database per size is created on it. Unset: a throwaway embedded PostgreSQL. */
  readonly databaseUrl: string | undefined;
  /** Progress lines; the test passes a silent sink. */
  readonly log: (line: string) => void;
}

export const DEFAULTS = Object.freeze({
  jobs: [100_000, 1_000_000],
  durationS: 10,
  warmupS: 2,
  connections: 16,
  rawPages: 200,
  rawPageLimit: 1_000,
  flyRuns: 10,
  lambdaRuns: 5,
  seed: 42,
  outDir: 'bench/results',
});

/**
 * Tiny and quick, yet every stage still runs: what the integration test uses. Small raw pages make
 * the window span more than --raw-pages pages, so the extrapolation runs too (at 5,000 jobs the
 * 7-day window holds about 390 rows, and fewer on some days: 100-row pages once fitted it in 3).
 */
export const SMOKE = Object.freeze({ jobs: [5_000], durationS: 1, warmupS: 0.5, rawPages: 3, rawPageLimit: 40, flyRuns: 3, lambdaRuns: 3 });

function numberFlag(name: string, raw: string, opts: { integer: boolean; zero?: boolean }): number {
  const n = Number(raw.replace(/_/g, ''));
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || (n === 0 && !opts.zero) || (opts.integer && !Number.isInteger(n))) {
    const what = `${opts.zero ? 'non-negative' : 'positive'} ${opts.integer ? 'integer' : 'number'}`;
    throw new Error(`--${name} must be a ${what}, got '${raw}'`);
  }
  return n;
}

const positive = (name: string, raw: string, integer: boolean) => numberFlag(name, raw, { integer });

/** Options from argv (without node and the script); DATABASE_URL comes from the caller. */
export function parseOptions(argv: readonly string[], databaseUrl: string | undefined, log: (line: string) => void): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      jobs: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      'raw-pages': { type: 'string' },
      'raw-page-limit': { type: 'string' },
      'fly-runs': { type: 'string' },
      'lambda-runs': { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      'unnamed-beside': { type: 'boolean', default: false },
    },
  });
  const base = values.smoke ? { ...DEFAULTS, ...SMOKE } : DEFAULTS;
  const jobs = values.jobs === undefined ? base.jobs : values.jobs.split(',').map((j) => positive('jobs', j.trim(), true));
  for (const j of jobs) if (j < 5) throw new Error(`--jobs must be at least 5 (one run has about 5 jobs), got ${j}`);
  return {
    jobs: [...new Set(jobs)].sort((a, b) => a - b),
    durationS: values.duration === undefined ? base.durationS : positive('duration', values.duration, false),
    warmupS: values.warmup === undefined ? base.warmupS : numberFlag('warmup', values.warmup, { integer: false, zero: true }),
    connections: values.connections === undefined ? base.connections : positive('connections', values.connections, true),
    rawPages: values['raw-pages'] === undefined ? base.rawPages : positive('raw-pages', values['raw-pages'], true),
    rawPageLimit: values['raw-page-limit'] === undefined ? base.rawPageLimit : positive('raw-page-limit', values['raw-page-limit'], true),
    flyRuns: values['fly-runs'] === undefined ? base.flyRuns : positive('fly-runs', values['fly-runs'], true),
    lambdaRuns: values['lambda-runs'] === undefined ? base.lambdaRuns : positive('lambda-runs', values['lambda-runs'], true),
    seed: values.seed === undefined ? base.seed : numberFlag('seed', values.seed, { integer: true, zero: true }),
    outDir: path.resolve(values.out ?? base.outDir),
    keep: values.keep,
    smoke: values.smoke,
    unnamedBeside: values['unnamed-beside'],
    databaseUrl,
    log,
  };
}
