/**
 * Shared by the refresh worker tests: worker settings whose schedules stay quiet during a test, a
 * pg-boss client that only observes jobs, and waits on job states and on table statistics.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type pg from 'pg';
import { PgBoss, type JobWithMetadata } from 'pg-boss';
import { pino } from 'pino';
import { createWorker, type RefreshWorker, type WorkerDeps } from '../../src/refresh/worker.ts';
import type { Config } from '../../src/core/config.ts';
import { TABLES } from '../../src/db/tables.ts';
import { registeredViews } from '../../src/declarations/index.ts';

export const silentLog = pino({ level: 'silent' });

/** Midnight of January 1st: a schedule that does not fire while a test runs, so the only jobs are the ones a test sends. */
export const QUIET_CRON = '0 0 1 1 *';

export function quietSchedules(): Record<string, string> {
  return Object.fromEntries(registeredViews().map((v) => [v.name, QUIET_CRON]));
}

export function refreshSettings(overrides: Partial<Config['refresh']> = {}): Config['refresh'] {
  return { statementTimeoutMs: 120_000, lockTimeoutMs: 10_000, schedules: quietSchedules(), stopTimeoutMs: 10_000, longWriterMs: 300_000, ...overrides };
}

/** A worker on the test database that polls often, so a triggered job starts soon. */
export function testWorker(url: string, overrides: Partial<WorkerDeps> = {}): RefreshWorker {
  return createWorker({ databaseUrl: url, refresh: refreshSettings(), log: silentLog, pollingIntervalSeconds: 0.5, ...overrides });
}

/** A pg-boss that only reads and sends: no cron, no maintenance, no schema changes. */
export async function observer(url: string): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: url, migrate: false, schedule: false, supervise: false, max: 2 });
  boss.on('error', () => {});
  await boss.start();
  return boss;
}

const DONE = new Set(['completed', 'failed', 'cancelled']);
/** How long a wait below may take before it fails naming the state it waited for (below mocha's timeouts). */
export const WAIT_DEADLINE_MS = 45_000;

/** Polls `done` every `everyMs` until it answers true; fails after the deadline with `describe()`'s words. */
async function waitUntil(done: () => Promise<boolean>, everyMs: number, describe: () => Promise<string> | string): Promise<void> {
  const deadline = Date.now() + WAIT_DEADLINE_MS;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`waited ${WAIT_DEADLINE_MS} ms for ${await describe()}`);
    await delay(everyMs);
  }
}

/** Waits for a job to finish, retries included, and returns it with its output. */
export async function finishedJob(boss: PgBoss, queue: string, id: string | null): Promise<JobWithMetadata<object>> {
  if (id === null) throw new Error(`the job sent to ${queue} was coalesced into one already waiting`);
  let job: JobWithMetadata<object> | null = null;
  await waitUntil(
    async () => {
      job = await boss.getJobById<object>(queue, id);
      return job !== null && DONE.has(job.state);
    },
    100,
    () => `job ${id} of ${queue} to finish; it is ${job ? `'${job.state}'` : 'not found'}`,
  );
  return job!;
}

/** Waits until a queue has no job waiting, retrying or running. */
export async function idleQueue(boss: PgBoss, queue: string): Promise<void> {
  let states: string[] = [];
  await waitUntil(
    async () => {
      states = (await boss.findJobs(queue, { limit: 100_000 })).map((job) => job.state).filter((state) => !DONE.has(state));
      return states.length === 0;
    },
    100,
    () => `${queue} to have no unfinished job; it has ${states.length} (${[...new Set(states)].join(', ')})`,
  );
}

/**
 * Waits until the statistics counters behind the change keys have caught up with the rows written.
 * A backend reports its counters when idle, up to ten seconds after a write, and a change key that
 * moves between two refreshes would make an unchanged source look changed. Tests write by INSERT
 * only, so the counters have caught up when they reach the row counts.
 */
export async function statisticsFlushed(pool: pg.Pool): Promise<void> {
  const tables = [TABLES.runs, TABLES.runsJobs, TABLES.statusChange];
  const check = tables
    .map((t) => `(SELECT n_tup_ins FROM pg_stat_user_tables WHERE schemaname = 'public' AND relname = '${t}') >= (SELECT count(*) FROM ${t})`)
    .join(' AND ');
  await waitUntil(
    async () => (await pool.query<{ flushed: boolean }>(`SELECT ${check} AS flushed`)).rows[0]?.flushed === true,
    200,
    () => 'the insert counters of pg_stat_user_tables to reach the row counts (is track_counts on?)',
  );
}

export interface RefreshLogRow {
  readonly id: number;
  readonly view_name: string;
  readonly outcome: string;
  readonly error: string | null;
  readonly started_at: Date;
  readonly finished_at: Date;
}

export async function refreshLog(pool: pg.Pool, view: string): Promise<RefreshLogRow[]> {
  const { rows } = await pool.query<RefreshLogRow>(
    `SELECT id, view_name, outcome, error, started_at, finished_at FROM ${TABLES.refreshLog} WHERE view_name = $1 ORDER BY id`,
    [view],
  );
  return rows;
}

/** Waits until a REFRESH ... CONCURRENTLY of the view is waiting for a lock. */
export async function refreshWaiting(pool: pg.Pool, view: string): Promise<void> {
  await waitUntil(
    async () =>
      (
        await pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`, [
          `REFRESH MATERIALIZED VIEW CONCURRENTLY ${view}%`,
        ])
      ).rows.length > 0,
    50,
    () => `a REFRESH MATERIALIZED VIEW CONCURRENTLY ${view} waiting for a lock`,
  );
}
