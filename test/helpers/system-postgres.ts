/**
 * A throwaway cluster of the machine's own PostgreSQL server build: the one users run (Debian's
 * `postgresql-15` here; `apt-get install postgresql-15`), with its JIT (llvmjit) and its default
 * settings, where the embedded server from npm has no JIT. The suite runs on it when
 * EVENTSTATS_TEST_SERVER=system (ci_local.sh's Node 22 pass), and so can the benchmarks.
 *
 * start() and stop() mirror each other: stop() ends the postmaster it spawned (a fast shutdown,
 * then a kill if it does not go) and removes the folder. As root, initdb and postgres run as the
 * `postgres` user, which the distribution's package creates.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.ts';
import { SERVER_USER, serverAccount } from './server-user.ts';

const DISTRIBUTION_ROOT = '/usr/lib/postgresql';
const READY_MS = 30_000;
const STOP_MS = 20_000;

/**
 * The bin folder of the server build to run: EVENTSTATS_TEST_PG_BIN, else the distribution's build
 * of EVENTSTATS_TEST_PG_MAJOR, else its newest. Throws a line naming what to install when none is.
 */
export function systemBinDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EVENTSTATS_TEST_PG_BIN) return env.EVENTSTATS_TEST_PG_BIN;
  const majors = existsSync(DISTRIBUTION_ROOT)
    ? readdirSync(DISTRIBUTION_ROOT)
        .filter((m) => /^\d+$/.test(m) && existsSync(path.join(DISTRIBUTION_ROOT, m, 'bin', 'postgres')))
        .sort((a, b) => Number(a) - Number(b))
    : [];
  const wanted = env.EVENTSTATS_TEST_PG_MAJOR;
  const major = wanted ? majors.find((m) => m === wanted) : majors.at(-1);
  if (!major) {
    throw new Error(
      `no PostgreSQL ${wanted ?? ''} server build under ${DISTRIBUTION_ROOT} (EVENTSTATS_TEST_SERVER=system): ` +
        `install it (apt-get install postgresql-${wanted ?? '15'}) or set EVENTSTATS_TEST_PG_BIN to its bin folder`,
    );
  }
  return path.join(DISTRIBUTION_ROOT, major, 'bin');
}

export interface SystemServer {
  /** The superuser's URL of `database` on it. */
  urlOf(database: string): string;
  readonly version: string;
  stop(): Promise<void>;
}

/** Initialises a cluster in a temporary folder, starts it on a free loopback port, waits until it answers. */
export async function startSystemServer(options: { binDir?: string; onLog?: (line: string) => void } = {}): Promise<SystemServer> {
  const bin = options.binDir ?? systemBinDir();
  const account = serverAccount();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-system-pg-'));
  await chmod(dir, 0o755);
  if (account) await chown(dir, account.uid, account.gid);
  const pgdata = path.join(dir, 'pgdata');
  const password = randomBytes(18).toString('base64url');
  const pwfile = path.join(dir, 'pw');
  await writeFile(pwfile, password, { mode: 0o600 });
  if (account) await chown(pwfile, account.uid, account.gid);
  const as = account ? { uid: account.uid, gid: account.gid } : {};
  let child: ChildProcess | undefined;
  const stop = async () => {
    const c = child;
    child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGINT'); // fast shutdown: sessions are ended, nothing waits for clients
      const timer = setTimeout(() => c.kill('SIGKILL'), STOP_MS);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    execFileSync(
      path.join(bin, 'initdb'),
      ['-D', pgdata, '-U', SERVER_USER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'],
      { ...as, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const port = await freePort();
    // Only what a test server needs differs from the build's defaults: loopback, its own socket
    // folder, room for the suite's sessions. JIT and everything else stay as the build ships them.
    child = spawn(
      path.join(bin, 'postgres'),
      ['-D', pgdata, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
      { ...as, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const log = options.onLog ?? (() => {});
    child.stdout?.setEncoding('utf8').on('data', (d: string) => log(d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => log(d));
    const url = (database: string) => `postgres://${SERVER_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
    const version = await waitUntilReady(url('postgres'), child);
    return { urlOf: url, version, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitUntilReady(url: string, child: ChildProcess): Promise<string> {
  const deadline = Date.now() + READY_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the PostgreSQL server exited with code ${child.exitCode} while starting`);
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => {});
    try {
      await client.connect();
      const { rows } = await client.query<{ v: string }>('SELECT version() AS v');
      return rows[0]!.v;
    } catch (err) {
      last = err;
    } finally {
      await client.end().catch(() => {});
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the PostgreSQL server did not answer within ${READY_MS} ms`, { cause: last });
}
