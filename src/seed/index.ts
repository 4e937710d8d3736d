/** The seed module's surface: the writer, its shapes, the universe a benchmark may cite, and progress text. */
export { seed, resolveSeedOptions, AlreadySeededError, DEFAULT_BATCH_RUNS, type ResolvedSeedOptions } from './seed.ts';
export type { Progress, SeedOptions, SeedResult } from './types.ts';
export {
  SHAPE,
  UNIVERSE,
  ENVIRONMENTS,
  COUNTRIES,
  MIXED_CASE_TENANTS,
  JOB_STATUSES,
  MESSAGES,
  type Universe,
  type Pipeline,
  type Catalog,
} from './universe.ts';
export { createProgressReporter, formatProgress, formatSummary, type ProgressReporter, type ProgressSink } from './progress.ts';
