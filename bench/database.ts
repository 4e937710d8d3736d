/**
 * The PostgreSQL server of a run: a throwaway embedded one in a temp folder on a free port, or the
 * server behind DATABASE_URL. Either way each dataset size gets a database of its own, created here
 * and dropped after its stages (unless --keep).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { EmbeddedDatabase } from '../src/db/embedded.ts';
import { withClient } from '../test/helpers/pg-client.ts';
import { freePort, type Resources } from './processes.ts';

export interface BenchServer {
  readonly kind: 'embedded' | 'external';
  /** Creates an empty database and returns its URL; `drop` removes it (a no-op with --keep). */
  createDatabase(label: string): Promise<{ url: string; drop: () => Promise<void> }>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function startServer(
  databaseUrl: string | undefined,
  keep: boolean,
  resources: Resources,
  log: (line: string) => void,
): Promise<BenchServer> {
  let adminUrl: string;
  if (databaseUrl) {
    adminUrl = databaseUrl;
  } else {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-bench-'));
    // The embedded server runs as an unprivileged user when we are root; it must reach pgdata below.
    await chmod(dir, 0o755);
    resources.add(
      `remove ${dir}`,
      async () => {
        if (keep) log(`kept the embedded cluster in ${dir}`);
        else await rm(dir, { recursive: true, force: true });
      },
      () => {
        if (!keep) rmSync(dir, { recursive: true, force: true });
      },
    );
    const embedded = new EmbeddedDatabase({ dir, port: await freePort(), persistent: keep, database: 'postgres' });
    // Registered before start(): a half-started server is stopped too.
    resources.add('stop embedded PostgreSQL', () => embedded.stop());
    adminUrl = await embedded.start();
  }
  return {
    kind: databaseUrl ? 'external' : 'embedded',
    async createDatabase(label) {
      const name = `eventstats_bench_${label.toLowerCase()}_${randomBytes(3).toString('hex')}`;
      await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
      const drop = resources.add(`drop database ${name}`, async () => {
        if (keep) log(`kept database ${name}`);
        else await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
      });
      return { url: withDatabase(adminUrl, name), drop };
    },
  };
}
