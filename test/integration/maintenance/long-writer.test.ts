/**
 * A writer transaction on the jobs table left open across cycles (a backfill, a slow batch, a session
 * idle in transaction): the cycles take no lock the gateway's writers would queue behind, they
 * succeed, absorb everything else, and hold back only the ids that writer may still commit; its rows
 * count in real-time answers as soon as it commits, and in the views at the next cycle. A writer that
 * rolls back leaves nothing held back.
 */
import { Writable } from 'node:stream';
import { expect } from 'chai';
import pg from 'pg';
import { pino } from 'pino';
import { refreshQueue } from '../../../src/db/tables.ts';
import { createExecutor } from '../../../src/db/executor.ts';
import { TABLES } from '../../../src/db/tables.ts';
import { viewsCheck } from '../../../src/http/views-health.ts';
import { REFRESH_METRICS } from '../../../src/metrics/refresh.ts';
import { createMetricsRegistry } from '../../../src/metrics/registry.ts';
import { HELD_BACK_JOBS } from '../../../src/rollup/layout.ts';
import { registeredViews } from '../../../src/declarations/index.ts';
import { PartsCache } from '../../../src/read/parts-cache.ts';
import { DAY_MS, HOUR_MS } from '../../../src/rollup/window.ts';
import { refreshViews, type RefreshOptions, type RefreshResult } from '../../../src/refresh/refresh-view.ts';
import { seed } from '../../../src/seed/index.ts';
import { expectAllExact, type Window } from '../../helpers/exact.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { REFRESH_OPTIONS } from '../../helpers/fixtures.ts';
import { Scrape } from '../../helpers/metrics.ts';
import { finishedJob, observer, refreshSettings, testWorker } from '../../helpers/refresh-worker.ts';
import { insertRun } from './writes.ts';

const FAILED = 'eventstats.mv_job_facts';
/** The gateway's insert must not wait for a cycle: anything near this long means it queued behind one. */
const INSERT_TIMEOUT_MS = 250;

const windowsAt = (now: number): Window[] => [
  { timestamp_start: now - 40 * DAY_MS, timestamp_end: now + HOUR_MS },
  { timestamp_start: now - 7 * DAY_MS - 12_345, timestamp_end: now - 5 * DAY_MS },
];

async function cycle(db: TestDatabase, options: Partial<RefreshOptions> = {}): Promise<RefreshResult[]> {
  const results = await refreshViews(db.pool, registeredViews(), { ...REFRESH_OPTIONS, ...options });
  for (const r of results) expect(r.outcome, `${r.view}: ${r.error ?? ''}`).to.be.oneOf(['refreshed', 'skipped']);
  return results;
}

const byView = (results: RefreshResult[], view: string) => results.find((r) => r.view === view)!;
/** What /health says a view's last refresh held back. */
async function healthHeldBack(db: TestDatabase, view: string): Promise<unknown> {
  const check = await viewsCheck(createExecutor(db.pool, 1), { refresh: refreshSettings({ schedules: {} }) })();
  return (check.detail as Record<string, { held_back_jobs: unknown }>)[view]!.held_back_jobs;
}
const heldBack = async (db: TestDatabase) => (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${HELD_BACK_JOBS}`)).rows[0]!.n;

async function connect(db: TestDatabase, statementTimeoutMs?: number): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: db.url, ...(statementTimeoutMs ? { statement_timeout: statementTimeoutMs } : {}) });
  await c.connect();
  return c;
}

/**
 * Runs a cycle of every view and, until it has finished, the gateway's insert (a run and its jobs)
 * again and again on another connection whose statements time out at INSERT_TIMEOUT_MS; resolves to
 * the cycle's results and the inserts made while it ran (each one must complete).
 */
async function cycleWhileInserting(db: TestDatabase, gateway: pg.Client, options: Partial<RefreshOptions> = {}): Promise<{ results: RefreshResult[]; inserts: number }> {
  let done = false;
  const running = refreshViews(db.pool, registeredViews(), { ...REFRESH_OPTIONS, ...options }).finally(() => (done = true));
  let inserts = 0;
  do {
    await insertRun(gateway, { ts: Date.now() - 2 * DAY_MS - inserts * 1000, jobs: 5, tenant: 'gateway' });
    inserts++;
  } while (!done);
  const results = await running;
  for (const r of results) expect(r.outcome, `${r.view}: ${r.error ?? ''}`).to.be.oneOf(['refreshed', 'skipped']);
  return { results, inserts };
}

describe('a writer transaction held open across cycles', function () {
  this.timeout(180_000);
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase();
    await seed(db.pool, { runs: 300, days: 20, end: Date.now(), seed: 17 });
    await cycle(db);
  });
  afterEach(async () => db?.drop());

  it('lets cycles succeed and inserts on other connections complete while they run, and after its commit every answer equals the oracle', async () => {
    const slow = await connect(db);
    const gateway = await connect(db, INSERT_TIMEOUT_MS);
    const cache = new PartsCache({ stateTtlMs: 3_600_000 });
    try {
      const pid = (await slow.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await slow.query('BEGIN');
      await insertRun(slow, { ts: Date.now() - 6 * DAY_MS, jobs: 4, tenant: 'backfill' });
      // A later writer commits first: its ids are higher than the open writer's.
      await insertRun(db.pool, { ts: Date.now() - 6 * DAY_MS + 1, jobs: 2 });
      for (let i = 0; i < 3; i++) {
        const { results, inserts } = await cycleWhileInserting(db, gateway, { longWriterMs: 0 });
        expect(inserts, 'inserts that completed while the cycle ran').to.be.greaterThan(0);
        const r = byView(results, FAILED);
        expect(r.outcome).to.equal('refreshed');
        expect(r.report?.heldBack, 'the open writer’s ids, held back').to.be.at.least(4);
        expect(r.report?.holders, 'writers open at the cycle').to.be.at.least(1);
        expect(r.report?.longWriters?.map((w) => w.pid), 'the open writer, named').to.include(pid);
        // Real-time answers count everything committed (the inserts the cycle did not see too), and not the open writer's rows.
        await expectAllExact(db.pool, windowsAt(Date.now()), Date.now(), { realtime: true, cache, topic: 'public.cps.za.runs' });
      }
      // A cycle with no insert after it: every answer counts everything committed.
      await cycle(db);
      await expectAllExact(db.pool, windowsAt(Date.now()), Date.now());
      expect(await healthHeldBack(db, FAILED), '/health: ids held back').to.be.at.least(4);
      await slow.query('COMMIT');
      // Real-time answers count its rows at once, before any cycle.
      await expectAllExact(db.pool, windowsAt(Date.now()), Date.now(), { realtime: true, cache, topic: 'public.cps.za.runs' });
      const r = byView(await cycle(db), FAILED);
      expect(r.report?.heldBack, 'nothing held back once it committed').to.equal(0);
      await expectAllExact(db.pool, windowsAt(Date.now()), Date.now());
      await expectAllExact(db.pool, windowsAt(Date.now()), Date.now(), { realtime: true, cache, topic: 'public.cps.za.runs' });
      expect(await heldBack(db)).to.equal(0);
      expect(await healthHeldBack(db, FAILED), '/health: nothing held back').to.equal(0);
    } finally {
      await slow.end();
      await gateway.end();
    }
  });

  it('counts in the cycle itself a writer that commits while the cycle polls for it, holding nothing back', async () => {
    const slow = await connect(db);
    try {
      await slow.query('BEGIN');
      await insertRun(slow, { ts: Date.now() - 5 * DAY_MS, jobs: 3, tenant: 'backfill' });
      const view = registeredViews().find((v) => v.name === FAILED)!;
      const running = refreshViews(db.pool, [view], { ...REFRESH_OPTIONS, holderWaitMs: 60_000 });
      // The cycle polls pg_locks for the open writer (a session's last statement stays in pg_stat_activity).
      await waitFor(async () => (await db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%virtualtransaction = ANY%' AND pid <> pg_backend_pid()`)).rows[0].n > 0);
      await slow.query('COMMIT');
      const [r] = await running;
      expect(r!.outcome).to.equal('refreshed');
      expect(r!.report?.heldBack, 'ids held back').to.equal(0);
      expect(r!.report?.holders, 'writers still open').to.equal(0);
      // The other views (not cycled above) catch up; every answer counts the writer's rows.
      await cycle(db);
      await expectAllExact(db.pool, windowsAt(Date.now()), Date.now());
    } finally {
      await slow.end();
    }
  });

  it('leaves no id held back once a writer held open across cycles rolls back', async () => {
    const slow = await connect(db);
    try {
      await slow.query('BEGIN');
      await insertRun(slow, { ts: Date.now() - 3 * DAY_MS, jobs: 6, tenant: 'backfill' });
      await insertRun(db.pool, { ts: Date.now() - 3 * DAY_MS, jobs: 1 });
      await cycle(db);
      await cycle(db);
      expect(await heldBack(db), 'ids held back while it is open').to.be.greaterThan(0);
      await slow.query('ROLLBACK');
      const r = byView(await cycle(db), FAILED);
      expect(r.report?.heldBack).to.equal(0);
      expect(await heldBack(db), 'ids held back after its rollback').to.equal(0);
      await expectAllExact(db.pool, windowsAt(Date.now()), Date.now());
      await expectAllExact(db.pool, windowsAt(Date.now()), Date.now(), { realtime: true, topic: 'public.cps.za.runs' });
    } finally {
      await slow.end();
    }
  });

  it('counts a writer that drew its ids before a rebuild and commits after it', async () => {
    const slow = await connect(db);
    try {
      await slow.query('BEGIN');
      await insertRun(slow, { ts: Date.now() - 9 * DAY_MS, jobs: 3, tenant: 'backfill' });
      await insertRun(db.pool, { ts: Date.now() - 9 * DAY_MS, jobs: 2 });
      const r = byView(await cycle(db, { rebuild: true }), FAILED);
      expect(r.report?.rebuild).to.equal(true);
      expect(r.report?.heldBack).to.be.at.least(3);
      await slow.query('COMMIT');
      await expectAllExact(db.pool, windowsAt(Date.now()), Date.now(), { realtime: true, topic: 'public.cps.za.runs' });
      await cycle(db);
      await expectAllExact(db.pool, windowsAt(Date.now()), Date.now());
      expect(await heldBack(db)).to.equal(0);
    } finally {
      await slow.end();
    }
  });

  it('starts counting again from the new ids after TRUNCATE ... RESTART IDENTITY and a reload', async () => {
    await db.pool.query(`BEGIN;
      CREATE TEMP TABLE jobs_copy ON COMMIT DROP AS SELECT * FROM ${TABLES.runsJobs} WHERE internal_id % 2 = 0;
      TRUNCATE ${TABLES.runsJobs} RESTART IDENTITY;
      INSERT INTO ${TABLES.runsJobs} (event_id, country, catalog_id, status, timestamp_start, timestamp_end)
        SELECT event_id, country, catalog_id, status, timestamp_start, timestamp_end FROM jobs_copy;
      COMMIT`);
    const r = byView(await cycle(db), FAILED);
    expect(r.report?.rebuild, 'the sequence went back').to.equal(true);
    await insertRun(db.pool, { ts: Date.now() - 4 * DAY_MS, jobs: 3 });
    await cycle(db);
    await expectAllExact(db.pool, windowsAt(Date.now()), Date.now());
  });

  it("is named in the worker's log with its pid and age, and counted in a metric, once open longer than REFRESH_LONG_WRITER_MS", async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const registry = createMetricsRegistry();
    // Any writer open at a cycle is past a bound of 0 ms.
    const worker = testWorker(db.url, { log: pino({ level: 'info' }, sink), metrics: registry, refresh: refreshSettings({ longWriterMs: 0 }) });
    await worker.start();
    const boss = await observer(db.url);
    const slow = await connect(db);
    try {
      const pid = (await slow.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await slow.query('BEGIN');
      await insertRun(slow, { ts: Date.now() - 2 * DAY_MS, jobs: 2, tenant: 'backfill' });
      const job = await finishedJob(boss, refreshQueue(FAILED), await worker.trigger(FAILED, { force: true }));
      expect(job.state).to.equal('completed');
      const named = lines.find((l) => Array.isArray(l.longWriters));
      const writers = (named?.longWriters ?? []) as { pid: unknown; ageMs: unknown }[];
      expect(writers.map((w) => w.pid), 'the log line naming it').to.include(pid);
      expect(writers.find((w) => w.pid === pid)?.ageMs, 'its age').to.be.a('number');
      const sc = new Scrape(await registry.metrics());
      expect(sc.value(REFRESH_METRICS.longWriters, { view: FAILED }), 'long writers at the last refresh').to.equal(1);
      expect(sc.value(REFRESH_METRICS.heldBackJobs, { view: FAILED }), 'ids held back').to.be.at.least(2);
      await slow.query('ROLLBACK');
    } finally {
      await slow.end();
      await worker.stop();
      await boss.stop();
    }
  });
  it("holds back, at a view's first build, only the ids past another view's last cycle, not every id deleted since 1", async () => {
    // Retention: a thousand old jobs gone, ids that no writer will ever commit.
    await db.pool.query(`DELETE FROM ${TABLES.runsJobs} WHERE internal_id IN (SELECT internal_id FROM ${TABLES.runsJobs} ORDER BY internal_id LIMIT 1000)`);
    await cycle(db);
    const slow = await connect(db);
    try {
      await slow.query('BEGIN');
      await insertRun(slow, { ts: Date.now() - 3 * DAY_MS, jobs: 3, tenant: 'backfill' });
      // What a query's migration leaves (src/maintenance/ddl.ts): nothing sealed, no watermark, so
      // the next cycle builds history anew.
      await db.pool.query(`UPDATE eventstats.maintenance SET sealed_to = NULL, id_watermark = NULL WHERE view_name = $1`, [FAILED]);
      const r = byView(await cycle(db, { holderWaitMs: 0 }), FAILED);
      expect(r.report?.rebuild).to.equal(true);
      expect(r.report?.heldBack, 'the open writer’s ids, not the deleted ones').to.be.within(3, 20);
      await slow.query('COMMIT');
      // Its ids are held back and now committed: a real-time tail reads them. Before a view's first
      // cycle (no watermark: what a query's migration leaves) it must not, since the view that
      // migration builds holds every job it saw. (Set back after: a watermark never goes NULL otherwise.)
      const tailHeldBack = async () =>
        (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM eventstats.runs_unabsorbed($1, 0, '{}') u WHERE u.held_back`, [FAILED])).rows[0]!.n;
      expect(await tailHeldBack(), 'held-back rows in the tail after a cycle').to.be.at.least(3);
      const { rows: was } = await db.pool.query<{ w: string }>(`SELECT id_watermark AS w FROM eventstats.maintenance WHERE view_name = $1`, [FAILED]);
      await db.pool.query(`UPDATE eventstats.maintenance SET id_watermark = NULL WHERE view_name = $1`, [FAILED]);
      expect(await tailHeldBack(), 'held-back rows in the tail before a first cycle').to.equal(0);
      await db.pool.query(`UPDATE eventstats.maintenance SET id_watermark = $2 WHERE view_name = $1`, [FAILED, was[0]!.w]);
    } finally {
      await slow.end();
    }
    await cycle(db);
    await expectAllExact(db.pool, windowsAt(Date.now()), Date.now());
    await expectAllExact(db.pool, windowsAt(Date.now()), Date.now(), { realtime: true, cache: new PartsCache({ stateTtlMs: 0 }), topic: 'public.cps.za.runs' });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
