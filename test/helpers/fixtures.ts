/** Shared integration fixtures: a seeded, refreshed database and a read-only executor on it. */
import pg from 'pg';
import { createExecutor, type Executor } from '../../src/db/executor.ts';
import { createPool } from '../../src/db/pool.ts';
import { PREPARED_PER_CONNECTION } from '../../src/db/prepared.ts';
import { registeredViews } from '../../src/declarations/index.ts';
import { refreshViews } from '../../src/refresh/refresh-view.ts';
import { seed } from '../../src/seed/index.ts';
import { createTestDatabase, readerUrl, type TestDatabase } from './database.ts';

/** A fixed "now" so windows and seeded data line up run after run. */
export const NOW = Date.UTC(2026, 10, 20, 13, 37, 21, 123);

export interface SeededDatabase {
  readonly db: TestDatabase;
  readonly reader: pg.Pool;
  readonly executor: Executor;
  close(): Promise<void>;
}

export function readOnlyPool(url: string): pg.Pool {
  return createPool({ connectionString: url, max: 4, statementTimeoutMs: 20_000, connectTimeoutMs: 5_000, readOnly: true, applicationName: 'eventstats-test' });
}

export const REFRESH_OPTIONS = { statementTimeoutMs: 120_000, lockTimeoutMs: 10_000 } as const;

export async function seededDatabase(options: { runs: number; days?: number; refresh?: boolean } = { runs: 2_000 }): Promise<SeededDatabase> {
  const db = await createTestDatabase();
  await seed(db.pool, { runs: options.runs, days: options.days ?? 30, end: NOW, seed: 7 });
  if (options.refresh !== false) await refreshViews(db.pool, registeredViews(), REFRESH_OPTIONS);
  // The API's login, as in production: only what the reader role grants.
  const reader = readOnlyPool(await readerUrl(db.url));
  return {
    db,
    reader,
    // As the API's (src/runtime.ts): request shapes' statements named, planned once, bounded per connection.
    executor: createExecutor(reader, { retryAfterSeconds: 1, preparedMax: PREPARED_PER_CONNECTION }),
    async close() {
      await reader.end();
      await db.drop();
    },
  };
}

/** A run written by hand, with the upstream's columns. */
export interface HandRun {
  readonly event_id: string;
  readonly job_ref: string;
  readonly tenant_id: string;
  readonly source_app: string;
  readonly source_app_version: string;
  readonly environment: string;
  readonly timestamp_start: number;
  readonly timestamp_end: number;
}

/** A job of a hand-written run; `additional_info` is stored as JSON. */
export interface HandJob {
  readonly country: string | null;
  readonly catalog_id: string;
  readonly status: string;
  readonly timestamp_start: number | null;
  readonly timestamp_end: number | null;
  readonly message: string | null;
  readonly additional_info: unknown;
}

/** Inserts the run and its jobs, in order; returns the jobs' internal_ids. */
export async function insertHandRun(pool: pg.Pool, r: HandRun, jobs: readonly HandJob[]): Promise<number[]> {
  await pool.query(
    `INSERT INTO public_cps_za_runs (event_id, job_ref, tenant_id, source_app, source_app_version, environment, timestamp_start, timestamp_end)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [r.event_id, r.job_ref, r.tenant_id, r.source_app, r.source_app_version, r.environment, r.timestamp_start, r.timestamp_end],
  );
  const ids: number[] = [];
  for (const j of jobs) {
    const { rows } = await pool.query<{ internal_id: number }>(
      `INSERT INTO public_cps_za_runs_jobs (event_id, country, catalog_id, status, timestamp_start, timestamp_end, message, additional_info)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING internal_id`,
      [r.event_id, j.country, j.catalog_id, j.status, j.timestamp_start, j.timestamp_end, j.message, j.additional_info === null ? null : JSON.stringify(j.additional_info)],
    );
    ids.push(rows[0]!.internal_id);
  }
  return ids;
}
