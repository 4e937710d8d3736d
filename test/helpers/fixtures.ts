/** Shared integration fixtures: a seeded, refreshed database and a read-only executor on it. */
import pg from 'pg';
import { createExecutor, type Executor } from '../../src/db/executor.ts';
import { createPool } from '../../src/db/pool.ts';
import { registeredViews } from '../../src/queries/index.ts';
import { refreshViews } from '../../src/refresh/refresh-view.ts';
import { seed } from '../../src/seed/index.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

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
  const reader = readOnlyPool(db.url);
  return {
    db,
    reader,
    executor: createExecutor(reader, 1),
    async close() {
      await reader.end();
      await db.drop();
    },
  };
}
