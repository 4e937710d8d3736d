import { createExecutor } from "../db/executor.js";
import { existingIdsCheck, jobsInsert, runsAndStatusInsert } from "./batch-sql.js";
import { RowGenerator } from "./generate.js";
import { SHAPE } from "./universe.js";
/** Large enough that round trips vanish, small enough that one statement stays well under a second. */
export const DEFAULT_BATCH_RUNS = 2_000;
const DAY_MS = 86_400_000;
/** The same seed and window end were written to this database before; nothing was written this time. */
export class AlreadySeededError extends Error {
    name = 'AlreadySeededError';
}
function nonNegativeInteger(name, value) {
    if (!Number.isSafeInteger(value) || value < 0)
        throw new RangeError(`seed option ${name} must be a non-negative integer, got ${value}`);
    return value;
}
/** Fills the defaults; throws RangeError naming an option that makes no sense. */
export function resolveSeedOptions(options, now = Date.now()) {
    const runs = nonNegativeInteger('runs', options.runs);
    const days = options.days ?? SHAPE.defaultDays;
    if (!Number.isFinite(days) || days <= 0)
        throw new RangeError(`seed option days must be a positive number, got ${days}`);
    const end = nonNegativeInteger('end', options.end ?? now);
    const batchRuns = nonNegativeInteger('batchRuns', options.batchRuns ?? DEFAULT_BATCH_RUNS);
    if (batchRuns === 0)
        throw new RangeError('seed option batchRuns must be at least 1');
    return {
        runs,
        seed: nonNegativeInteger('seed', options.seed ?? SHAPE.defaultSeed),
        days,
        end,
        statusRows: nonNegativeInteger('statusRows', options.statusRows ?? runs * SHAPE.statusRowsPerRun),
        batchRuns,
    };
}
/** Lets the driver put the started INSERT on the wire before the next batch is generated. */
const yieldToIo = () => new Promise((resolve) => setImmediate(resolve));
/**
 * Seeds through the given writable pool (two connections keep both lanes busy; one also works).
 * Each batch is two atomic statements, jobs in one and runs with status-change rows in the other;
 * the seed as a whole is not a transaction, so a failure midway keeps what was committed, possibly
 * one half of the last batch. The next batch is generated while the previous one is inserted, and
 * each table receives its batches in order, so `internal_id` follows the generation order and the
 * same seed and end give byte-identical tables.
 */
export async function seed(pool, options, onProgress) {
    const o = resolveSeedOptions(options);
    const window = { start: o.end - Math.round(o.days * DAY_MS), end: o.end };
    const generator = new RowGenerator(o.seed, window);
    // No Retry-After applies to a seed; the executor is used for its single error mapping.
    const db = createExecutor(pool, 0);
    const startedAt = performance.now();
    const written = { runs: 0, jobs: 0, statusRows: 0 };
    let jobsLane = Promise.resolve();
    let runsLane = Promise.resolve();
    const write = async (batch) => {
        jobsLane = db.query(jobsInsert(batch));
        runsLane = db.query(runsAndStatusInsert(batch));
        await Promise.all([jobsLane, runsLane]);
        written.runs += batch.runs.eventId.length;
        written.jobs += batch.jobs.eventId.length;
        written.statusRows += batch.status.jobId.length;
        onProgress?.({ ...written, totalRuns: o.runs, totalStatusRows: o.statusRows, elapsedMs: performance.now() - startedAt });
    };
    // Runs and status rows are spread evenly over the batches, so both finish together.
    const batches = Math.max(1, Math.ceil(Math.max(o.runs, o.statusRows) / o.batchRuns));
    const share = (total, i) => Math.floor(((i + 1) * total) / batches) - Math.floor((i * total) / batches);
    let pending;
    try {
        for (let i = 0; i < batches; i++) {
            const runs = share(o.runs, i);
            const statusRows = share(o.statusRows, i);
            if (runs === 0 && statusRows === 0)
                continue;
            const batch = generator.next(runs, statusRows);
            if (pending === undefined) {
                // Checked before anything is written: the two lanes commit independently, so a collision found
                // by one of them would leave the other's half of the batch behind. A missing table fails here too.
                const [row] = await db.query(existingIdsCheck(batch));
                if (row?.seeded) {
                    throw new AlreadySeededError(`this database already holds the rows of seed ${o.seed} with window end ${o.end}; pick another seed or end`);
                }
            }
            await pending;
            pending = write(batch);
            // The failure is awaited on the next turn; this only stops Node reporting it as unhandled meanwhile.
            pending.catch(() => undefined);
            await yieldToIo();
        }
        await pending;
    }
    finally {
        // After a failure the other lane may still be writing; let it settle before the caller ends the pool.
        await Promise.allSettled([jobsLane, runsLane]);
    }
    return { ...written, ms: performance.now() - startedAt, seed: o.seed, windowStart: window.start, windowEnd: window.end };
}
//# sourceMappingURL=seed.js.map