/**
 * `npm run worker` as the process operators run: started on a test database, stopped by SIGTERM in
 * the middle of a refresh, and failing with one line and an exit code when it cannot start.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import pg from 'pg';
import type { PgBoss } from 'pg-boss';
import { refreshQueue } from '../../../src/db/tables.ts';
import { VIEWS } from '../../../src/db/tables.ts';
import type { RefreshResult } from '../../../src/refresh/refresh-view.ts';
import { createTestDatabase } from '../../helpers/database.ts';
import { seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { freePort } from '../../helpers/free-port.ts';
import { observer, quietSchedules, refreshLog, refreshWaiting } from '../../helpers/refresh-worker.ts';
import { killAllServices, startService, type ServiceProcess } from '../../helpers/service-process.ts';

const VIEW = VIEWS.jobFacts;
const QUEUE = refreshQueue(VIEW);

function startWorker(env: Record<string, string>): ServiceProcess {
  return startService('jobs/worker.ts', { REFRESH_SCHEDULES: JSON.stringify(quietSchedules()), ...env });
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
  afterEach(killAllServices);
  after(async () => {
    killAllServices();
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

  it('SIGKILLed mid-refresh: its session ends within seconds, the log says the attempt was abandoned, and another worker refreshes', async () => {
    const blocker = await blockRefreshesOf(s.db.url, VIEW);
    let released = false;
    try {
      // The refresh would wait two minutes for the lock: only the session's own check can end it sooner.
      const worker = startWorker({ DATABASE_URL: s.db.url, REFRESH_LOCK_TIMEOUT_MS: '120000' });
      await worker.waitForMessage('refresh worker started');
      const id = await boss.send(QUEUE, { force: true }, { singletonKey: VIEW });
      await refreshWaiting(s.db.pool, VIEW);
      const { rows: sessions } = await s.db.pool.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'eventstats-worker-%' AND query LIKE $1`,
        [`REFRESH MATERIALIZED VIEW CONCURRENTLY ${VIEW}%`],
      );
      expect(sessions).to.have.length(1);
      expect((await refreshLog(s.db.pool, VIEW)).at(-1)?.outcome).to.equal('running');

      process.kill(-worker.child.pid!, 'SIGKILL');
      const killedAt = Date.now();
      for (;;) {
        const { rowCount } = await s.db.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [sessions[0]!.pid]);
        if (!rowCount) break;
        if (Date.now() - killedAt > 10_000) throw new Error('the killed worker\'s session still runs its REFRESH 10 s later');
        await delay(100);
      }
      await blocker.release();
      released = true;

      // The killed job's heartbeat lapses, pg-boss takes it from the dead worker (a retry, or failed
      // when the queue already holds a retry, which then does the work), and a second worker refreshes.
      const next = startWorker({ DATABASE_URL: s.db.url });
      await next.waitForMessage('refresh worker started');
      const deadline = Date.now() + 150_000;
      for (;;) {
        const job = await boss.getJobById<object>(QUEUE, id!);
        const refreshed = (await refreshLog(s.db.pool, VIEW)).some((r) => r.outcome === 'refreshed' && r.started_at.getTime() > killedAt);
        if (job?.state !== 'active' && refreshed) break;
        if (Date.now() > deadline) throw new Error(`150 s after its worker was killed the job is ${job?.state}, and the view refreshed since: ${refreshed}`);
        await delay(500);
      }
      const log = await refreshLog(s.db.pool, VIEW);
      const abandoned = log.filter((r) => r.outcome === 'abandoned');
      expect(abandoned, 'the killed attempt').to.have.length(1);
      expect(abandoned[0]!.error).to.match(/ended before it finished/);
      expect(log.some((r) => r.outcome === 'running'), 'no attempt looks as if it were still running').to.equal(false);
      expect(log.at(-1)?.outcome).to.equal('refreshed');
    } finally {
      if (!released) await blocker.release();
    }
  });

  it('exits 2 with one line naming the view and the expression when REFRESH_SCHEDULES holds a bad cron', async () => {
    const worker = startWorker({ DATABASE_URL: s.db.url, REFRESH_SCHEDULES: JSON.stringify({ [VIEW]: 'every five minutes' }) });
    expect(await worker.exitCode()).to.equal(2);
    expectOneLine(worker.stderr(), /^worker: invalid configuration: REFRESH_SCHEDULES: eventstats\.mv_job_facts: 'every five minutes' has 3 field\(s\)/);
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
