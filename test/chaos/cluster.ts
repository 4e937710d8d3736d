/**
 * A PostgreSQL of the chaos scenarios' own (they stop and start it, so it cannot be the suite's
 * shared server): an embedded cluster in a temporary folder, migrated, seeded and refreshed, with a
 * key pair and an access.json for the EventStats processes started against it.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ensureDevKeyPair, signToken } from '../../src/auth/dev-keys.ts';
import { EmbeddedDatabase } from '../../src/db/embedded.ts';
import { migrateUp } from '../../src/db/migrate.ts';
import { registeredViews } from '../../src/declarations/index.ts';
import { refreshViews } from '../../src/refresh/refresh-view.ts';
import { seed } from '../../src/seed/index.ts';
import { freePort } from '../helpers/free-port.ts';
import { ACCESS, type User } from '../helpers/http.ts';

/** ADMISSION_* and INFLIGHT_USER_MAX opened wide, for the scenarios that are not about admission; '' sets them back to the defaults. */
export const WIDE_ADMISSION = Object.freeze({ ADMISSION_USER_MAX: '64', ADMISSION_GLOBAL_MAX: '64', INFLIGHT_USER_MAX: '0' });
export const DEFAULT_ADMISSION = Object.freeze({ ADMISSION_USER_MAX: '', ADMISSION_GLOBAL_MAX: '', INFLIGHT_USER_MAX: '' });

export interface ChaosCluster {
  readonly url: string;
  /** Its data directory (what a streaming replica is copied from: test/helpers/replica.ts). */
  readonly dataDir: string;
  /** A pool of the scenario's own (writes, checks); it outlives stops. */
  readonly pool: pg.Pool;
  /** Environment an API or worker process needs to run against this cluster. */
  readonly env: Record<string, string>;
  bearer(user: User): string;
  /** Stops PostgreSQL (fast shutdown: sessions are ended), keeping its data. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  close(): Promise<void>;
}

export interface ClusterOptions {
  readonly runs: number;
  readonly days?: number;
  /** Seeded data ends here (ms); now by default, so that the worker's clock and the data agree. */
  readonly end?: number;
  /** PostgreSQL's own log lines (its stderr), e.g. for auto_explain while profiling. */
  readonly onLog?: (line: string) => void;
}

export async function startChaosCluster(options: ClusterOptions): Promise<ChaosCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-chaos-'));
  await chmod(dir, 0o755); // PostgreSQL runs as another user when the scenario runs as root
  const embedded = new EmbeddedDatabase({ dir: path.join(dir, 'pg'), port: await freePort(), persistent: true, database: 'eventstats', onLog: options.onLog });
  let pool: pg.Pool | undefined;
  try {
    const url = await embedded.start();
    await migrateUp(url);
    pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'chaos-harness' });
    // Stopping the server ends this pool's idle sessions: expected, and not a reason to crash.
    pool.on('error', () => {});
    await seed(pool, { runs: options.runs, days: options.days ?? 30, end: options.end ?? Date.now(), seed: 11 });
    // A production database has statistics; a freshly loaded one has none until autovacuum gets
    // to it, and the raw endpoint's plan was seconds slower without them (measured at 1M jobs).
    await pool.query('ANALYZE');
    await refreshViews(pool, registeredViews(), { statementTimeoutMs: 600_000, lockTimeoutMs: 10_000 });
    const keys = await ensureDevKeyPair(dir);
    const accessFile = path.join(dir, 'access.json');
    await writeFile(accessFile, JSON.stringify(ACCESS));
    const tokens = new Map<User, string>();
    const p = pool;
    return {
      url,
      dataDir: path.join(dir, 'pg', 'pgdata'),
      pool: p,
      // The scenarios measure outages, refreshes and soaks with one or two users on many connections,
      // not admission control: its budget is opened wide here, and the admission stage starts an API
      // with the defaults (test/chaos/abuse.ts).
      env: { DATABASE_URL: url, TOKEN_PUBLIC_KEYS_URL: keys.publicKeysFile, ACCESS_CONFIG: accessFile, ...WIDE_ADMISSION },
      bearer(user) {
        let token = tokens.get(user);
        if (token === undefined) tokens.set(user, (token = signToken(keys.privateKeyPem, user, { ttlSeconds: 6 * 3600 })));
        return `Bearer ${token}`;
      },
      stop: () => embedded.stop(),
      async start() {
        await embedded.start();
      },
      async close() {
        await p.end().catch(() => {});
        await embedded.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await pool?.end().catch(() => {});
    await embedded.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
