/**
 * One dataset size: migrate, seed, VACUUM ANALYZE, then the two refresh measurements (a forced
 * refresh of every view, and a refresh whose sources did not change, which must be skipped) and
 * the resulting view sizes.
 */
import pg from 'pg';
import { migrateUp } from '../src/db/migrate.ts';
import { TABLES } from '../src/db/tables.ts';
import { registeredViews } from '../src/declarations/index.ts';
import { refreshView, type RefreshOptions } from '../src/refresh/refresh-view.ts';
import { type Outcome } from '../src/rollup/refresh-log.ts';
import type { ViewRefresh } from '../src/declarations/types.ts';
import { seed, SHAPE } from '../src/seed/index.ts';
import { round } from './stats.ts';

/**
 * An idle pooled connection that the server ends (a stop on Ctrl-C, the database dropped) emits an
 * error; unhandled, it would crash the harness before it has cleaned up. Queries still fail loudly.
 */
export function ignoreIdleError(): void {}

/** Generous limits: the refresh at 10M jobs is what is being measured, not what is being bounded. */
const REFRESH_LIMITS = { statementTimeoutMs: 3_600_000, lockTimeoutMs: 60_000 } as const;

export interface ViewRefreshTiming {
  readonly view: string;
  readonly outcome: Outcome;
  /** As refreshView measures it: change key, decision, REFRESH (unless skipped) and the log insert. */
  readonly ms: number;
  /** Seen from the caller: also the connection, the advisory lock and its release. */
  readonly wallMs: number;
  readonly error?: string;
}

export interface RefreshTiming {
  readonly totalMs: number;
  readonly views: readonly ViewRefreshTiming[];
}

export interface DatasetResult {
  readonly jobsRequested: number;
  readonly runs: number;
  readonly seed: number;
  /** Epoch ms: the seeded data ends here, and the benchmark's "now" is this instant. */
  readonly end: number;
  readonly seeded: { readonly runs: number; readonly jobs: number; readonly statusRows: number; readonly ms: number };
  readonly migrateMs: number;
  readonly vacuumAnalyzeMs: number;
  /**
   * VACUUM (ANALYZE) of the views and a CHECKPOINT after the refresh measurements, before any load:
   * so the load stages measure reads, not the write-back and vacuuming the bulk load left behind.
   */
  readonly settleMs: number;
  readonly baseTables: readonly { readonly table: string; readonly bytes: number }[];
  /** The first, plain population of every view (they are created WITH NO DATA). */
  readonly refresh: RefreshTiming;
  /** A forced refresh of populated views: CONCURRENTLY, as the worker runs it in production. */
  readonly concurrentRefresh: RefreshTiming;
  /** The same, every view at once: the worker's queues run side by side (wall time of the slowest). */
  readonly parallelRefresh: RefreshTiming;
  readonly unchangedRefresh: RefreshTiming;
  readonly views: readonly { readonly view: string; readonly rows: number; readonly bytes: number }[];
}

/** refreshViews, one view at a time (so each view's wall time is seen too), or all at once. */
async function timedRefresh(pool: pg.Pool, views: readonly ViewRefresh[], options: RefreshOptions, parallel = false): Promise<RefreshTiming> {
  const t0 = performance.now();
  const one = async (v: ViewRefresh): Promise<ViewRefreshTiming> => {
    const t = performance.now();
    const r = await refreshView(pool, v, options);
    return { view: r.view, outcome: r.outcome, ms: r.durationMs, wallMs: round(performance.now() - t), ...(r.error ? { error: r.error } : {}) };
  };
  const out: ViewRefreshTiming[] = [];
  if (parallel) out.push(...(await Promise.all(views.map(one))));
  else for (const v of views) out.push(await one(v));
  return { totalMs: round(performance.now() - t0), views: out };
}

export async function prepareDataset(url: string, jobs: number, seedValue: number, log: (line: string) => void): Promise<DatasetResult> {
  const end = Date.now();
  const runs = Math.max(1, Math.round(jobs / SHAPE.jobsPerRun.mean));
  const t0 = performance.now();
  await migrateUp(url);
  const migrateMs = performance.now() - t0;

  // Its own pool, ended right after: a backend publishes its table counters when it exits.
  const writer = new pg.Pool({ connectionString: url, max: 4, application_name: 'eventstats-bench-seed' });
  writer.on('error', ignoreIdleError);
  let lastShown = 0;
  const seeded = await seed(writer, { runs, seed: seedValue, end }, (p) => {
    if (p.elapsedMs - lastShown < 5_000) return;
    lastShown = p.elapsedMs;
    log(`  seeding: ${p.runs}/${p.totalRuns} runs, ${p.jobs} jobs, ${(p.elapsedMs / 1000).toFixed(0)} s`);
  }).finally(() => writer.end());
  log(`  seeded ${seeded.runs} runs, ${seeded.jobs} jobs, ${seeded.statusRows} status rows in ${(seeded.ms / 1000).toFixed(1)} s`);

  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'eventstats-bench' });
  pool.on('error', ignoreIdleError);
  try {
    const t1 = performance.now();
    await pool.query('VACUUM ANALYZE');
    const vacuumAnalyzeMs = performance.now() - t1;

    const views = registeredViews();
    const forced = async (what: string, parallel = false): Promise<RefreshTiming> => {
      const timing = await timedRefresh(pool, views, { ...REFRESH_LIMITS, force: true }, parallel);
      const failed = timing.views.filter((r) => r.outcome !== 'refreshed');
      if (failed.length) throw new Error(`${what} failed: ${failed.map((r) => `${r.view} ${r.outcome} ${r.error ?? ''}`).join('; ')}`);
      return timing;
    };
    const refresh = await forced('refresh');
    log(`  populated every view in ${(refresh.totalMs / 1000).toFixed(1)} s`);
    const concurrentRefresh = await forced('concurrent refresh');
    log(`  refreshed every view CONCURRENTLY in ${(concurrentRefresh.totalMs / 1000).toFixed(1)} s`);
    const parallelRefresh = await forced('parallel refresh', true);
    log(`  refreshed every view CONCURRENTLY, all at once as the worker does, in ${(parallelRefresh.totalMs / 1000).toFixed(1)} s`);

    const unchangedRefresh = await timedRefresh(pool, views, REFRESH_LIMITS);

    const t2 = performance.now();
    await pool.query(`VACUUM (ANALYZE) ${views.map((v) => v.name).join(', ')}`);
    // CHECKPOINT needs superuser or pg_checkpoint: on a server where we lack it, the dirty pages stay.
    await pool.query('CHECKPOINT').catch((err: unknown) => log(`  CHECKPOINT skipped: ${(err as Error).message}`));
    const settleMs = performance.now() - t2;

    const viewStats: DatasetResult['views'][number][] = [];
    for (const v of views) {
      const { rows } = await pool.query<{ rows: number; bytes: number }>(
        `SELECT (SELECT count(*) FROM ${v.name})::float8 AS rows, pg_total_relation_size($1::regclass)::float8 AS bytes`,
        [v.name],
      );
      viewStats.push({ view: v.name, rows: rows[0]!.rows, bytes: rows[0]!.bytes });
    }
    const baseTables: DatasetResult['baseTables'][number][] = [];
    for (const table of [TABLES.runs, TABLES.runsJobs, TABLES.statusChange]) {
      const { rows } = await pool.query<{ bytes: number }>('SELECT pg_total_relation_size($1::regclass)::float8 AS bytes', [table]);
      baseTables.push({ table, bytes: rows[0]!.bytes });
    }
    return {
      jobsRequested: jobs,
      runs,
      seed: seedValue,
      end,
      seeded: { runs: seeded.runs, jobs: seeded.jobs, statusRows: seeded.statusRows, ms: round(seeded.ms) },
      migrateMs: round(migrateMs),
      vacuumAnalyzeMs: round(vacuumAnalyzeMs),
      settleMs: round(settleMs),
      baseTables,
      refresh,
      concurrentRefresh,
      parallelRefresh,
      unchangedRefresh,
      views: viewStats,
    };
  } finally {
    await pool.end();
  }
}
