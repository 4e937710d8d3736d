/**
 * Refresh jobs end to end: a worker on a real database, jobs sent through pg-boss, answers read
 * through the compiled queries with a read-only executor.
 */
import { expect } from 'chai';
import type { PgBoss } from 'pg-boss';
import { refreshQueue } from '../../../src/db/tables.ts';
import type { RefreshWorker } from '../../../src/refresh/worker.ts';
import type { Access } from '../../../src/auth/acl.ts';
import { TABLES, VIEWS } from '../../../src/db/tables.ts';
import { prepareQuery } from '../../../src/read/execute.ts';
import { PartsCache } from '../../../src/read/parts-cache.ts';
import { findQuery } from '../../../src/declarations/index.ts';
import { DAY_MS, HOUR_MS } from '../../../src/rollup/window.ts';
import type { RefreshResult } from '../../../src/refresh/refresh-view.ts';
import { NOW, seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { finishedJob, observer, refreshLog, refreshSettings, statisticsFlushed, testWorker } from '../../helpers/refresh-worker.ts';

const ALL: Access = { kind: 'all' };
const QUEUE = refreshQueue(VIEWS.jobFacts);
// Whole UTC days only: the rollup then answers from the view alone, with no raw edges from the base
// tables, so an answer changes only when the view does.
const DAY_END = Math.floor(NOW / DAY_MS) * DAY_MS;
const WINDOW = { timestamp_start: DAY_END - 7 * DAY_MS, timestamp_end: DAY_END - 1 };

// Shared by every read, as in a server process: an answer must change when the view's version does.
const cache = new PartsCache({ stateTtlMs: 0 });

async function failedJobs(s: SeededDatabase, filters: Record<string, string[]> = {}) {
  const q = findQuery('public.cps.za.runs', 'failed_jobs')!;
  return (await prepareQuery(q, { ...WINDOW, ...filters, limit: 1000 }, ALL, NOW).run(s.executor, cache)).data;
}

/** One run of a tenant the seed never writes, with one failed job, inside the window. */
async function insertFailedRun(s: SeededDatabase, tenant: string): Promise<void> {
  const at = DAY_END - 2 * DAY_MS + 3 * HOUR_MS;
  const eventId = `worker-test-${tenant}`;
  await s.db.pool.query(
    `INSERT INTO ${TABLES.runs} (event_id, job_ref, tenant_id, source_app, source_app_version, environment, timestamp_start, timestamp_end)
     VALUES ($1, 'ref', $2, 'worker-test-app', '1.0', 'prod', $3, $4)`,
    [eventId, tenant, at, at + 60_000],
  );
  await s.db.pool.query(
    `INSERT INTO ${TABLES.runsJobs} (event_id, country, catalog_id, status, timestamp_start, timestamp_end)
     VALUES ($1, 'za', 'catalog-worker-test', 'failed', $2, $3)`,
    [eventId, at, at + 30_000],
  );
}

async function outcomeOf(boss: PgBoss, id: string | null): Promise<string> {
  const job = await finishedJob(boss, QUEUE, id);
  expect(job.state, JSON.stringify(job.output)).to.equal('completed');
  return (job.output as RefreshResult).outcome;
}

describe('refresh jobs', function () {
  this.timeout(120_000);
  let s: SeededDatabase;
  let worker: RefreshWorker;
  let boss: PgBoss;

  before(async () => {
    s = await seededDatabase({ runs: 2_000 });
    worker = testWorker(s.db.url);
    await worker.start();
    boss = await observer(s.db.url);
  });
  after(async () => {
    await worker?.stop();
    await boss?.stop();
    await s?.close();
  });

  it('serves rows that arrived after the last refresh once a triggered refresh has run', async () => {
    const tenant = 'tenant-arrived-late';
    await insertFailedRun(s, tenant);
    expect(await failedJobs(s, { tenant_id: [tenant] }), 'before the refresh').to.deep.equal([]);

    expect(await outcomeOf(boss, await worker.trigger(VIEWS.jobFacts))).to.equal('refreshed');

    const rows = await failedJobs(s, { tenant_id: [tenant] });
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ tenant_id: tenant, source_app: 'worker-test-app', failed_count: 1, job_count: 1 });
  });

  it('skips a view whose sources did not change, and refreshes it when forced', async () => {
    await statisticsFlushed(s.db.pool);
    const from = (await refreshLog(s.db.pool, VIEWS.jobFacts)).length;

    expect(await outcomeOf(boss, await worker.trigger(VIEWS.jobFacts, { force: true }))).to.equal('refreshed');
    expect(await outcomeOf(boss, await worker.trigger(VIEWS.jobFacts))).to.equal('skipped');
    expect(await outcomeOf(boss, await worker.trigger(VIEWS.jobFacts, { force: true }))).to.equal('refreshed');

    const log = (await refreshLog(s.db.pool, VIEWS.jobFacts)).slice(from);
    expect(log.map((r) => r.outcome)).to.deep.equal(['refreshed', 'skipped', 'refreshed']);
  });

  it('accepts a query name as well as a view name when triggered', async () => {
    expect(await outcomeOf(boss, await worker.trigger('failed_jobs', { force: true }))).to.equal('refreshed');
  });
});

describe('a refresh that fails', function () {
  this.timeout(120_000);
  let s: SeededDatabase;
  let worker: RefreshWorker;
  let boss: PgBoss;

  before(async () => {
    s = await seededDatabase({ runs: 2_000 });
    // Retries a second apart, so the test sees the whole retry sequence quickly. Each attempt's
    // REFRESH waits for a lock the test holds (below) until the statement timeout cancels it: a
    // failure in the middle of a statement, every time. (A 1 ms timeout raced statement boundaries:
    // a timeout that fired as one statement ended could cancel the next as "user request".)
    worker = testWorker(s.db.url, { refresh: refreshSettings({ statementTimeoutMs: 300 }), retry: { limit: 2, delaySeconds: 1, backoff: true } });
    await worker.start();
    boss = await observer(s.db.url);
  });
  after(async () => {
    await worker?.stop();
    await boss?.stop();
    await s?.close();
  });

  it('is retried, then leaves the previous data served and the error in the refresh log', async () => {
    const served = await failedJobs(s);
    const logged = (await refreshLog(s.db.pool, VIEWS.jobFacts)).length;
    await insertFailedRun(s, 'tenant-never-refreshed');

    // A REFRESH ... CONCURRENTLY left uncommitted holds the view's EXCLUSIVE lock, which the worker's
    // own REFRESH waits for, and which reads do not (LOCK TABLE does not take materialized views).
    const holder = await s.db.pool.connect();
    let job;
    try {
      await holder.query(`BEGIN; REFRESH MATERIALIZED VIEW CONCURRENTLY ${VIEWS.jobFacts}`);
      job = await finishedJob(boss, QUEUE, await worker.trigger(VIEWS.jobFacts, { force: true }));
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }

    expect(job.state).to.equal('failed');
    expect(job.retryCount, 'retries').to.equal(2);
    // The job keeps the error of its last attempt; every attempt's own error is in the refresh log.
    expect(JSON.stringify(job.output), JSON.stringify(job.output).slice(0, 600)).to.match(/refresh of eventstats\.mv_job_facts failed/);
    const attempts = (await refreshLog(s.db.pool, VIEWS.jobFacts)).slice(logged);
    expect(attempts.map((r) => r.outcome)).to.deep.equal(['failed', 'failed', 'failed']);
    for (const a of attempts) expect(a.error, String(a.error)).to.match(/canceling statement due to statement timeout/);
    expect(await failedJobs(s), 'the answer of the last successful refresh').to.deep.equal(served);
  });
});
