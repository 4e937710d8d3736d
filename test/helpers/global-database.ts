/**
 * Mocha global fixture: one PostgreSQL server for the whole run, chosen in this order:
 *   1. TEST_DATABASE_URL — an existing server whose user may CREATE DATABASE;
 *   2. a testcontainers PostgreSQL, where a container runtime answers;
 *   3. a throwaway embedded PostgreSQL (this is what CI on a machine without containers uses).
 * Suites then create their own databases from it (see database.ts), so they never share state.
 * Teardown stops whatever setup started, so no postgres process outlives the run.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedDatabase } from '../../src/db/embedded.ts';
import { freePort } from './free-port.ts';

export const ADMIN_URL_ENV = 'EVENTSTATS_TEST_ADMIN_URL';

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

export async function mochaGlobalSetup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL || (await startContainer()) || (await startEmbedded());
  process.env[ADMIN_URL_ENV] = url;
}

export async function mochaGlobalTeardown(): Promise<void> {
  await stopServer?.();
  stopServer = undefined;
}
