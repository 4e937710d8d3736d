/**
 * Mocha global fixture: one PostgreSQL server for the whole run, chosen in this order:
 *   1. TEST_DATABASE_URL — an existing server whose user may CREATE DATABASE;
 *   2. EVENTSTATS_TEST_SERVER=system — a throwaway cluster of the machine's own server build
 *      (Debian's PostgreSQL 15, JIT on, its defaults: system-postgres.ts), the kind users run;
 *   3. a testcontainers PostgreSQL, where a container runtime answers;
 *   4. a throwaway embedded PostgreSQL (the default, and CI's Node 24 pass).
 * On a server it starts, the suite does not run as the superuser: it creates a role with only what a
 * managed service's master user has (LOGIN CREATEDB CREATEROLE, no SUPERUSER: Amazon RDS's
 * rds_superuser is the model), and every database, migration, worker, CLI and fixture of the suite
 * runs as that role. The superuser's URL stays available for what only an operator does.
 * Suites then create their own databases from it (see database.ts), so they never share state.
 * Teardown stops whatever setup started, so no postgres process outlives the run.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { EmbeddedDatabase } from '../../src/db/embedded.ts';
import { freePort } from './free-port.ts';
import { startSystemServer } from './system-postgres.ts';

export const ADMIN_URL_ENV = 'EVENTSTATS_TEST_ADMIN_URL';
/** The server's superuser (the same as the admin URL with TEST_DATABASE_URL). */
export const SUPERUSER_URL_ENV = 'EVENTSTATS_TEST_SUPERUSER_URL';
/** The role the suite runs as on a server it starts: what a managed service's master user is. */
export const OWNER_ROLE = 'eventstats_owner';

let stopServer: (() => Promise<void>) | undefined;

function containerRuntimeConfigured(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock') || existsSync(path.join(os.homedir(), '.docker/run/docker.sock'));
}

async function startContainer(): Promise<string | undefined> {
  if (!containerRuntimeConfigured()) return undefined;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
  } catch {
    return undefined; // a client or socket without a working engine: fall through to embedded
  }
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer('postgres:17-alpine').start();
  stopServer = async () => {
    await container.stop();
  };
  return container.getConnectionUri();
}

async function startEmbedded(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-test-pg-'));
  const db = new EmbeddedDatabase({ dir, port: await freePort(), persistent: false, database: 'postgres' });
  await db.start();
  stopServer = async () => {
    await db.stop();
    await rm(dir, { recursive: true, force: true });
  };
  return db.url('postgres');
}

async function startSystem(): Promise<string> {
  const server = await startSystemServer();
  stopServer = () => server.stop();
  const url = server.urlOf('postgres');
  // The point of this server is its JIT: a build without it would test nothing the embedded one does not.
  const { rows } = await withClient(url, (c) => c.query<{ jit: boolean; setting: string }>(`SELECT pg_jit_available() AS jit, current_setting('jit') AS setting`));
  if (!rows[0]?.jit || rows[0].setting !== 'on') {
    throw new Error(`the system PostgreSQL (${server.version}) has no working JIT (pg_jit_available: ${rows[0]?.jit}, jit = ${rows[0]?.setting}): install its llvmjit (Debian ships it in postgresql-15)`);
  }
  return url;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates the non-superuser owner role on a server the suite started; returns its URL. */
async function ownerUrl(superuserUrl: string): Promise<string> {
  const password = randomBytes(18).toString('base64url');
  await withClient(superuserUrl, (c) => c.query(`CREATE ROLE ${OWNER_ROLE} LOGIN CREATEDB CREATEROLE NOSUPERUSER PASSWORD '${password}'`));
  const u = new URL(superuserUrl);
  u.username = OWNER_ROLE;
  u.password = password;
  return u.toString();
}

async function startServer(): Promise<string> {
  if (process.env.EVENTSTATS_TEST_SERVER === 'system') return startSystem();
  if (process.env.EVENTSTATS_TEST_SERVER && process.env.EVENTSTATS_TEST_SERVER !== 'embedded') {
    throw new Error(`EVENTSTATS_TEST_SERVER must be 'embedded' or 'system', not '${process.env.EVENTSTATS_TEST_SERVER}'`);
  }
  return (await startContainer()) || (await startEmbedded());
}

export async function mochaGlobalSetup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) {
    process.env[ADMIN_URL_ENV] = process.env.TEST_DATABASE_URL;
    process.env[SUPERUSER_URL_ENV] = process.env.TEST_DATABASE_URL;
    return;
  }
  const superuser = await startServer();
  process.env[SUPERUSER_URL_ENV] = superuser;
  process.env[ADMIN_URL_ENV] = await ownerUrl(superuser);
}

export async function mochaGlobalTeardown(): Promise<void> {
  await stopServer?.();
  stopServer = undefined;
}
