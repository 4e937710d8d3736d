/** The seed module's public shapes, apart so progress rendering and the writer share them without a cycle. */

export interface SeedOptions {
  /** Runs to write; each has SHAPE.jobsPerRun jobs. */
  readonly runs: number;
  /** PRNG seed, a non-negative safe integer. Default SHAPE.defaultSeed. */
  readonly seed?: number;
  /** Length of the time window in days. Default SHAPE.defaultDays. */
  readonly days?: number;
  /** End of the window, epoch milliseconds (exclusive). Default: now. */
  readonly end?: number;
  /** Status-change rows to write. Default: one per run. */
  readonly statusRows?: number;
  /** Runs per INSERT statement; each statement is atomic. Default 2,000. */
  readonly batchRuns?: number;
}

/** Reported after each batch is committed. */
export interface Progress {
  readonly runs: number;
  readonly jobs: number;
  readonly statusRows: number;
  readonly totalRuns: number;
  readonly totalStatusRows: number;
  readonly elapsedMs: number;
}

export interface SeedResult {
  readonly runs: number;
  readonly jobs: number;
  readonly statusRows: number;
  /** Wall time of the whole seed, generation and writes. */
  readonly ms: number;
  readonly seed: number;
  /** The window the timestamps fall in: [windowStart, windowEnd), epoch milliseconds. */
  readonly windowStart: number;
  readonly windowEnd: number;
}
