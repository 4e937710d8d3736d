/**
 * A fresh, migrated database per suite on the run's PostgreSQL server (see global-database.ts).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { readdirSync } from 'node:fs';
import { runner } from 'node-pg-migrate';
import { MIGRATIONS_DIR, MIGRATIONS_TABLE, migrateUp } from '../../src/db/migrate.ts';
import { ADMIN_URL_ENV } from './global-database.ts';

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  /** A writable pool for fixtures. */
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env[ADMIN_URL_ENV];
  if (!url) throw new Error('the test database server is not started (test/helpers/global-database.ts)');
  return url;
}

export function databaseUrl(name: string): string {
  const u = new URL(adminUrl());
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The login the API's pools use in the suite: a member of eventstats_reader and nothing more. */
export const API_LOGIN = 'eventstats_api';
let apiPassword: Promise<string> | undefined;

/**
 * `url` (a migrated database's) as the API's login, which holds only what eventstats_reader grants,
 * as the README tells operators to run the API. Created once per run on a server the suite started;
 * with TEST_DATABASE_URL (whose user may lack CREATEROLE) the URL is returned as it is.
 */
export async function readerUrl(url: string): Promise<string> {
  if (process.env.TEST_DATABASE_URL) return url;
  apiPassword ??= admin(async (c) => {
    const password = randomBytes(12).toString('hex');
    await c.query(`CREATE ROLE ${API_LOGIN} LOGIN PASSWORD '${password}' IN ROLE eventstats_reader`);
    return password;
  });
  const u = new URL(url);
  u.username = API_LOGIN;
  u.password = await apiPassword;
  return u.toString();
}

/** Creates an empty database; `migrate: false` leaves it without the schema. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `es_test_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = databaseUrl(name);
  if (options.migrate !== false) await migrateUp(url);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  return {
    url,
    name,
    pool,
    async drop() {
      await pool.end();
      await admin(async (c) => {
        // pool.end() resolves once its clients are told to end, not once their backends are gone.
        // A FORCE drop then terminates a backend whose client still listens, and that client's
        // "terminating connection" error surfaces as an uncaught exception in whatever test runs.
        // Wait (bounded) for every session on the database to close; FORCE remains for leftovers.
        for (let i = 0; i < 100; i++) {
          const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
          if (rows[0]?.n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
    },
  };
}

/** Applies the migrations that had landed before `name` (a migration's file name without .sql), and no later one. */
export async function migrateToBefore(url: string, name: string): Promise<void> {
  const count = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && f < name).length;
  await runner({ databaseUrl: url, dir: MIGRATIONS_DIR, migrationsTable: MIGRATIONS_TABLE, direction: 'up', count, checkOrder: true, log: () => {} });
}
