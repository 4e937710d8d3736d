/**
 * `npm run worker` as the process operators run: started on a test database, stopped by SIGTERM in
 * the middle of a refresh, and failing with one line and an exit code when it cannot start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import pg from 'pg';
import type { PgBoss } from 'pg-boss';
import { refreshQueue } from '../../../jobs/refresh-queues.ts';
import { VIEWS } from '../../../src/db/tables.ts';
import type { RefreshResult } from '../../../src/refresh/refresh-view.ts';
import { createTestDatabase } from '../../helpers/database.ts';
import { seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { freePort } from '../../helpers/free-port.ts';
import { observer, quietSchedules, refreshLog, refreshWaiting } from '../../helpers/refresh-worker.ts';

const ROOT = path.join(import.meta.dirname, '../../..');
// tsx's own command line, run by the Node that runs the tests (not whichever `node` PATH finds).
const TSX = path.join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const VIEW = VIEWS.failedJobs;
const QUEUE = refreshQueue(VIEW);
// Bounds on waiting for the process, so a hung worker fails the test with a reason rather than at the mocha timeout.
const STARTUP_LIMIT_MS = 60_000;
const EXIT_LIMIT_MS = 60_000;

interface WorkerProcess {
  readonly child: ChildProcess;
  /** The `msg` of every JSON log line so far. */
  readonly messages: string[];
  stderr(): string;
  waitForMessage(msg: string, limitMs?: number): Promise<void>;
  /** The exit code, or a failure if the process has not exited within the limit. */
  exitCode(limitMs?: number): Promise<number | null>;
}

const running: ChildProcess[] = [];

function startWorker(env: Record<string, string>): WorkerProcess {
  // `npm run worker` runs `tsx jobs/worker.ts`; tsx relays SIGTERM to the node process it starts and
  // exits with its code. npx and npm run (npm 11) do not pass SIGTERM on, so they are left out.
  // Its own process group, so that cleanup can end tsx and node together.
  const child = spawn(process.execPath, [TSX, 'jobs/worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', REFRESH_SCHEDULES: JSON.stringify(quietSchedules()), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.push(child);
  const messages: string[] = [];
  let stderr = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        messages.push((JSON.parse(line) as { msg: string }).msg);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    messages,
    stderr: () => stderr,
    async waitForMessage(msg, limitMs = STARTUP_LIMIT_MS) {
      const deadline = Date.now() + limitMs;
      while (!messages.includes(msg)) {
        if (child.exitCode !== null) throw new Error(`the worker exited (${child.exitCode}) before logging '${msg}': ${stderr}`);
        if (Date.now() > deadline) throw new Error(`the worker did not log '${msg}' within ${limitMs} ms; logged: ${messages.join(' | ')}`);
        await delay(50);
      }
    },
    async exitCode(limitMs = EXIT_LIMIT_MS) {
      const limit = delay(limitMs, 'limit' as const);
      const result = await Promise.race([exited, limit]);
      if (result === 'limit') throw new Error(`the worker did not exit within ${limitMs} ms; logged: ${messages.join(' | ')}`);
      return result;
    },
  };
}

/** Ends every process group a test started, whether or not its first process is still there. */
function killAll(): void {
  for (const child of running.splice(0)) {
    if (child.pid === undefined) continue;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the whole group has exited
    }
  }
}

/**
 * Holds the lock a concurrent refresh of the view takes, by running one in a transaction left open:
 * the worker's REFRESH then waits, while readers pass. release() rolls it back.
 */
async function blockRefreshesOf(url: string, view: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  // Dropping the database at the end terminates this connection; that must not crash the run.
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${view}`);
  } catch (err) {
    await client.end();
    throw err;
  }
  return {
    async release() {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

function expectOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines, stderr).to.have.length(1);
  expect(lines[0]).to.match(pattern);
}

describe('the worker process', function () {
  this.timeout(180_000);
  let s: SeededDatabase;
  let boss: PgBoss;

  before(async () => {
    s = await seededDatabase({ runs: 2_000 });
    boss = await observer(s.db.url);
  });
  afterEach(killAll);
  after(async () => {
    killAll();
    await boss?.stop();
    await s?.close();
  });

  it('lets a running refresh finish on SIGTERM, then exits 0', async () => {
    const blocker = await blockRefreshesOf(s.db.url, VIEW);
    let released = false;
    try {
      // A generous lock timeout: the refresh must outlast the test's steps, not fail on them.
      const worker = startWorker({ DATABASE_URL: s.db.url, REFRESH_LOCK_TIMEOUT_MS: '120000', REFRESH_STOP_TIMEOUT_MS: '120000' });
      await worker.waitForMessage('refresh worker started');
      const id = await boss.send(QUEUE, { force: true }, { singletonKey: VIEW });
      await refreshWaiting(s.db.pool, VIEW);

      process.kill(worker.child.pid!, 'SIGTERM');
      await worker.waitForMessage('stopping: no new jobs, letting a running refresh finish');
      await blocker.release();
      released = true;

      expect(await worker.exitCode()).to.equal(0);
      const job = await boss.getJobById<object>(QUEUE, id!);
      expect(job?.state).to.equal('completed');
      expect((job?.output as RefreshResult).outcome).to.equal('refreshed');
      expect((await refreshLog(s.db.pool, VIEW)).at(-1)?.outcome).to.equal('refreshed');
    } finally {
      if (!released) await blocker.release();
    }
  });

  it('cancels a refresh still running at the stop timeout, keeps the view as it was, and exits 0', async () => {
    const blocker = await blockRefreshesOf(s.db.url, VIEW);
    try {
      const worker = startWorker({ DATABASE_URL: s.db.url, REFRESH_LOCK_TIMEOUT_MS: '120000', REFRESH_STOP_TIMEOUT_MS: '1000' });
      await worker.waitForMessage('refresh worker started');
      const id = await boss.send(QUEUE, { force: true }, { singletonKey: VIEW });
      await refreshWaiting(s.db.pool, VIEW);

      process.kill(worker.child.pid!, 'SIGTERM');

      expect(await worker.exitCode()).to.equal(0);
      const last = (await refreshLog(s.db.pool, VIEW)).at(-1);
      expect(last?.outcome).to.equal('failed');
      expect(last?.error).to.match(/canceling statement due to user request/);
      // pg-boss handed the job back for a retry by the next worker.
      expect((await boss.getJobById(QUEUE, id!))?.state).to.equal('retry');
    } finally {
      await blocker.release();
    }
  });

  it('exits 2 with one line naming the view and the expression when REFRESH_SCHEDULES holds a bad cron', async () => {
    const worker = startWorker({ DATABASE_URL: s.db.url, REFRESH_SCHEDULES: JSON.stringify({ [VIEW]: 'every five minutes' }) });
    expect(await worker.exitCode()).to.equal(2);
    expectOneLine(worker.stderr(), /^worker: invalid configuration: REFRESH_SCHEDULES: eventstats\.mv_failed_jobs: 'every five minutes' has 3 field\(s\)/);
  });

  it('exits 2 with one line when DATABASE_URL is not set', async () => {
    const worker = startWorker({ DATABASE_URL: '' });
    expect(await worker.exitCode()).to.equal(2);
    expectOneLine(worker.stderr(), /^worker: DATABASE_URL is not set/);
  });

  it('exits 1 with one line when the database is unreachable', async () => {
    const worker = startWorker({ DATABASE_URL: `postgres://nobody:secret@127.0.0.1:${await freePort()}/none` });
    expect(await worker.exitCode()).to.equal(1);
    expectOneLine(worker.stderr(), /^worker: cannot start: the database is unavailable \(.*ECONNREFUSED.*\)$/);
  });

  it('exits 1 with one line saying to migrate when pg-boss is not installed', async () => {
    const bare = await createTestDatabase({ migrate: false });
    try {
      const worker = startWorker({ DATABASE_URL: bare.url });
      expect(await worker.exitCode()).to.equal(1);
      expectOneLine(worker.stderr(), /^worker: cannot start: pg-boss is not installed in this database \(schema pgboss\); run `npm run migrate`$/);
    } finally {
      await bare.drop();
    }
  });
});
