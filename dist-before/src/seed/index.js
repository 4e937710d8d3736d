/** The seed module's surface: the writer, its shapes, the universe a benchmark may cite, and progress text. */
export { seed, resolveSeedOptions, AlreadySeededError, DEFAULT_BATCH_RUNS } from "./seed.js";
export { SHAPE, UNIVERSE, ENVIRONMENTS, COUNTRIES, MIXED_CASE_TENANTS, JOB_STATUSES, MESSAGES, } from "./universe.js";
export { createProgressReporter, formatProgress, formatSummary } from "./progress.js";
//# sourceMappingURL=index.js.map