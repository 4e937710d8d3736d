/**
 * A real PgBouncer in front of the test PostgreSQL (Debian's `pgbouncer` package), for the
 * transaction-pooler tests. It listens on a free 127.0.0.1 port and proxies every database of the
 * upstream server (`* = host=... port=...`), with a small server pool so that client connections
 * really share server connections. Run as root, it runs as the `postgres` user (PgBouncer refuses
 * root), from a temp folder that user can enter.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.ts';

const RUN_AS = 'postgres';

export interface PgBouncerOptions {
  /** `transaction` (default), `session` or `statement`. */
  readonly poolMode?: 'transaction' | 'session' | 'statement';
  /** Server connections per user/database pair (default 4). */
  readonly defaultPoolSize?: number;
  /** PgBouncer's max_client_conn (default 500). */
  readonly maxClientConn?: number;
}

export interface PgBouncer {
  /** The upstream URL with its host and port replaced by PgBouncer's. */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** The pgbouncer binary: PGBOUNCER_PATH, Debian's /usr/sbin/pgbouncer, or the first on PATH. */
export function pgbouncerPath(): string | undefined {
  const candidates = [process.env.PGBOUNCER_PATH, '/usr/sbin/pgbouncer', ...(process.env.PATH ?? '').split(':').map((d) => path.join(d, 'pgbouncer'))];
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not this one
    }
  }
  return undefined;
}

export function pgbouncerAvailable(): boolean {
  return pgbouncerPath() !== undefined;
}

/**
 * For a suite's `before`: fails it, saying how to get PgBouncer, when it is not installed. A missing
 * tool fails the run rather than skipping the tests that need it, so that CI cannot pass without them.
 */
export function requirePgBouncer(): void {
  if (pgbouncerAvailable()) return;
  throw new Error('the transaction-pooler tests need PgBouncer, which is not installed: `apt-get install pgbouncer` (.ci/run does), or set PGBOUNCER_PATH');
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function uidGid(user: string): { uid: number; gid: number } | undefined {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return undefined;
  }
}

/** userlist.txt quotes: a `"` inside a value is doubled. */
const quoted = (s: string) => `"${s.replaceAll('"', '""')}"`;

export async function startPgBouncer(upstreamUrl: string, options: PgBouncerOptions = {}): Promise<PgBouncer> {
  const binary = pgbouncerPath();
  if (!binary) throw new Error('PgBouncer is not installed (apt-get install pgbouncer, or set PGBOUNCER_PATH)');
  const upstream = new URL(upstreamUrl);
  const user = decodeURIComponent(upstream.username);
  const password = decodeURIComponent(upstream.password);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-pgbouncer-'));
  await chmod(dir, 0o755);
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? uidGid(RUN_AS) : undefined;
  if (asRoot && !owner) throw new Error(`running as root, PgBouncer must run as the '${RUN_AS}' user, which does not exist`);
  const port = await freePort();
  const ini = [
    '[databases]',
    `* = host=${upstream.hostname} port=${upstream.port || '5432'}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    `unix_socket_dir = ${dir}`,
    // Clients are trusted here (the test's own); the userlist's password is what PgBouncer logs in
    // to PostgreSQL with (SCRAM or md5, as the server asks).
    'auth_type = trust',
    `auth_file = ${path.join(dir, 'userlist.txt')}`,
    `pool_mode = ${options.poolMode ?? 'transaction'}`,
    `default_pool_size = ${options.defaultPoolSize ?? 4}`,
    'min_pool_size = 0',
    'reserve_pool_size = 0',
    `max_client_conn = ${options.maxClientConn ?? 500}`,
    `logfile = ${path.join(dir, 'pgbouncer.log')}`,
    `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
    // node-postgres sends application_name (and the API may send it); PgBouncer 1.18 tracks it. Nothing
    // else is ignored: the API must not send `options` through a transaction pooler.
    'ignore_startup_parameters = extra_float_digits',
    'server_reset_query = DISCARD ALL',
    'admin_users = ',
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'pgbouncer.ini'), ini, { mode: 0o644 });
  await writeFile(path.join(dir, 'userlist.txt'), `${quoted(user)} ${quoted(password)}\n`, { mode: 0o600 });
  if (owner) {
    await chown(dir, owner.uid, owner.gid);
    await chown(path.join(dir, 'pgbouncer.ini'), owner.uid, owner.gid);
    await chown(path.join(dir, 'userlist.txt'), owner.uid, owner.gid);
  }
  const child: ChildProcess = spawn(binary, [path.join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  const cleanup = async () => {
    if (exited === undefined && child.pid !== undefined) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(child.pid, 'SIGINT'); // PgBouncer: SIGINT is a safe immediate shutdown
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5_000))]);
      if (exited === undefined) process.kill(child.pid, 'SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (exited !== undefined) {
      await cleanup();
      throw new Error(`PgBouncer exited (${exited}) before accepting connections: ${stderr.trim()}`);
    }
    if (await accepts(port)) break;
    if (i >= 200) {
      await cleanup();
      throw new Error(`PgBouncer did not accept connections within 10 s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = new URL(upstreamUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return { url: url.toString(), port, stop: cleanup };
}
