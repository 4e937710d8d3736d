/**
 * Writes a seeded, reproducible data set into the source tables: the demo fill of the all-in-one
 * mode, the benchmark's data, and `npm run seed`.
 */
import type pg from 'pg';
import { createExecutor } from '../db/executor.ts';
import { existingIdsCheck, jobsInsert, runsAndStatusInsert } from './batch-sql.ts';
import { RowGenerator, type Batch } from './generate.ts';
import type { Progress, SeedOptions, SeedResult } from './types.ts';
import { SHAPE } from './universe.ts';

/** Large enough that round trips vanish, small enough that one statement stays well under a second. */
export const DEFAULT_BATCH_RUNS = 2_000;
const DAY_MS = 86_400_000;

export type ResolvedSeedOptions = Required<SeedOptions>;

/** The same seed and window end were written to this database before; nothing was written this time. */
export class AlreadySeededError extends Error {
  override name = 'AlreadySeededError';
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`seed option ${name} must be a non-negative integer, got ${value}`);
  return value;
}

/** Fills the defaults; throws RangeError naming an option that makes no sense. */
export function resolveSeedOptions(options: SeedOptions, now: number = Date.now()): ResolvedSeedOptions {
  const runs = nonNegativeInteger('runs', options.runs);
  const days = options.days ?? SHAPE.defaultDays;
  if (!Number.isFinite(days) || days <= 0) throw new RangeError(`seed option days must be a positive number, got ${days}`);
  const end = nonNegativeInteger('end', options.end ?? now);
  const batchRuns = nonNegativeInteger('batchRuns', options.batchRuns ?? DEFAULT_BATCH_RUNS);
  if (batchRuns === 0) throw new RangeError('seed option batchRuns must be at least 1');
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
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Seeds through the given writable pool (two connections keep both lanes busy; one also works).
 * Each batch is two atomic statements, jobs in one and runs with status-change rows in the other;
 * the seed as a whole is not a transaction, so a failure midway keeps what was committed, possibly
 * one half of the last batch. The next batch is generated while the previous one is inserted, and
 * each table receives its batches in order, so `internal_id` follows the generation order and the
 * same seed and end give byte-identical tables.
 */
export async function seed(pool: pg.Pool, options: SeedOptions, onProgress?: (p: Progress) => void): Promise<SeedResult> {
  const o = resolveSeedOptions(options);
  const window = { start: o.end - Math.round(o.days * DAY_MS), end: o.end };
  const generator = new RowGenerator(o.seed, window);
  // No Retry-After applies to a seed; the executor is used for its single error mapping.
  const db = createExecutor(pool, 0);
  const startedAt = performance.now();
  const written = { runs: 0, jobs: 0, statusRows: 0 };

  let jobsLane: Promise<unknown> = Promise.resolve();
  let runsLane: Promise<unknown> = Promise.resolve();
  const write = async (batch: Batch): Promise<void> => {
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
  const share = (total: number, i: number) => Math.floor(((i + 1) * total) / batches) - Math.floor((i * total) / batches);
  let pending: Promise<void> | undefined;
  try {
    for (let i = 0; i < batches; i++) {
      const runs = share(o.runs, i);
      const statusRows = share(o.statusRows, i);
      if (runs === 0 && statusRows === 0) continue;
      const batch = generator.next(runs, statusRows);
      if (pending === undefined) {
        // Checked before anything is written: the two lanes commit independently, so a collision found
        // by one of them would leave the other's half of the batch behind. A missing table fails here too.
        const [row] = await db.query<{ seeded: boolean }>(existingIdsCheck(batch));
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
  } finally {
    // After a failure the other lane may still be writing; let it settle before the caller ends the pool.
    await Promise.allSettled([jobsLane, runsLane]);
  }

  return { ...written, ms: performance.now() - startedAt, seed: o.seed, windowStart: window.start, windowEnd: window.end };
}
