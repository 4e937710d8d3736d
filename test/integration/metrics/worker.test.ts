/**
 * The refresh worker's metrics, in its registry, after real refreshes on a real database: the
 * outcome counter and the duration as the refresh log records it, the rows a cycle changed, the
 * seconds since each view's last success read from eventstats.refresh_log, a failed refresh, the
 * refresh queues' jobs and the refresh pool.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import type { Registry } from 'prom-client';
import { refreshQueue } from '../../../src/db/tables.ts';
import type { RefreshWorker } from '../../../src/refresh/worker.ts';
import { VIEWS } from '../../../src/db/tables.ts';
import { REFRESH_METRICS } from '../../../src/metrics/refresh.ts';
import { createMetricsRegistry, POOL_METRICS } from '../../../src/metrics/registry.ts';
import { registeredViews } from '../../../src/declarations/index.ts';
import type { RefreshResult } from '../../../src/refresh/refresh-view.ts';
import { seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { Scrape } from '../../helpers/metrics.ts';
import { finishedJob, observer, refreshLog, refreshSettings, testWorker } from '../../helpers/refresh-worker.ts';

const VIEW = VIEWS.jobFacts;
// Its queue holds a deferred job in one test; no test refreshes it.
const IDLE_VIEW = VIEWS.runStatusSummary;
const LOCK_TIMEOUT_MS = 2_000;

describe("the refresh worker's metrics", function () {
  this.timeout(180_000);
  let s: SeededDatabase;
  let registry: Registry;
  let worker: RefreshWorker;
  let boss: PgBoss;

  const scrape = async () => new Scrape(await registry.metrics());
  async function refresh(view: string): Promise<{ state: string; result: RefreshResult | undefined }> {
    const job = await finishedJob(boss, refreshQueue(view), await worker.trigger(view, { force: true }));
    return { state: job.state, result: job.output as RefreshResult | undefined };
  }

  before(async () => {
    // Never refreshed: the first refresh of a view builds its history (a rebuild).
    s = await seededDatabase({ runs: 2_000, refresh: false });
    registry = createMetricsRegistry();
    worker = testWorker(s.db.url, {
      metrics: registry,
      refresh: refreshSettings({ lockTimeoutMs: LOCK_TIMEOUT_MS }),
      retry: { limit: 0, delaySeconds: 1, backoff: false },
    });
    await worker.start();
    boss = await observer(s.db.url);
  });
  after(async () => {
    await worker?.stop();
    await boss?.stop();
    await s?.close();
  });

  it('starts with every outcome at 0 and +Inf seconds since the success of views never refreshed', async () => {
    const sc = await scrape();
    for (const { name: view } of registeredViews()) {
      for (const outcome of ['refreshed', 'skipped', 'failed', 'coalesced']) expect(sc.value(REFRESH_METRICS.refreshes, { view, outcome })).to.equal(0);
      expect(sc.value(REFRESH_METRICS.sinceSuccess, { view }), view).to.equal(Infinity);
      expect(sc.value(REFRESH_METRICS.sinceCheck, { view }), view).to.equal(Infinity);
    }
  });

  it('counts a refresh, times it as the refresh log does, counts its rebuild, and reads its age from the refresh log', async () => {
    const { state, result } = await refresh(VIEW);
    expect(state).to.equal('completed');
    expect(result?.outcome).to.equal('refreshed');
    // A scrape reuses the refresh log read of one less than a second old (scrapeRead: the gauges of
    // one scrape share it); the previous test's scrape may be that recent.
    await delay(1_100);
    const before = Date.now();
    const sc = await scrape();
    const after = Date.now();
    expect(sc.value(REFRESH_METRICS.refreshes, { view: VIEW, outcome: 'refreshed' })).to.equal(1);
    const duration = sc.histogram(REFRESH_METRICS.duration, { view: VIEW, outcome: 'refreshed' });
    expect(duration?.count).to.equal(1);
    expect(duration?.sum).to.equal(result!.durationMs / 1000);
    expect(sc.value(REFRESH_METRICS.rebuilds, { view: VIEW })).to.equal(1);

    const logged = (await refreshLog(s.db.pool, VIEW)).filter((r) => r.outcome === 'refreshed').at(-1)!;
    const age = sc.value(REFRESH_METRICS.sinceSuccess, { view: VIEW });
    expect(age).to.be.within((before - logged.finished_at.getTime()) / 1000 - 0.001, (after - logged.finished_at.getTime()) / 1000 + 0.001);
    expect(sc.value(REFRESH_METRICS.sinceCheck, { view: VIEW })).to.be.at.most(age);
    expect(sc.value(REFRESH_METRICS.sinceSuccess, { view: IDLE_VIEW }), 'the other views are still never refreshed').to.equal(Infinity);
  });

  it('observes the rows an incremental refresh changed, as its cycle reported them', async () => {
    const { result } = await refresh(VIEW);
    expect(result?.report?.rebuild).to.equal(false);
    const sc = await scrape();
    const sealed = sc.histogram(REFRESH_METRICS.changedRows, { view: VIEW, kind: 'sealed' });
    const late = sc.histogram(REFRESH_METRICS.changedRows, { view: VIEW, kind: 'late' });
    expect(result?.report?.sealedRows).to.be.a('number');
    expect([sealed?.count, sealed?.sum]).to.deep.equal([1, result!.report!.sealedRows]);
    expect([late?.count, late?.sum]).to.deep.equal([1, result!.report!.deltaRows]);
    expect(sc.value(REFRESH_METRICS.refreshes, { view: VIEW, outcome: 'refreshed' })).to.equal(2);
    expect(sc.value(REFRESH_METRICS.rebuilds, { view: VIEW })).to.equal(1);
  });

  it('counts a refresh that fails (its REFRESH waits past the lock timeout) as failed, with its duration', async () => {
    // A REFRESH of the view in a transaction left open holds the lock the worker's REFRESH needs.
    const blocker = new pg.Client({ connectionString: s.db.url });
    blocker.on('error', () => {});
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${VIEW}`);
      const { state } = await refresh(VIEW);
      expect(state).to.equal('failed');
    } finally {
      await blocker.query('ROLLBACK').catch(() => {});
      await blocker.end();
    }
    const sc = await scrape();
    expect(sc.value(REFRESH_METRICS.refreshes, { view: VIEW, outcome: 'failed' })).to.equal(1);
    const failed = sc.histogram(REFRESH_METRICS.duration, { view: VIEW, outcome: 'failed' });
    expect(failed?.count).to.equal(1);
    expect(failed?.sum, 'it waited for the lock timeout').to.be.at.least(LOCK_TIMEOUT_MS / 1000 - 0.1);
    expect(sc.value(REFRESH_METRICS.refreshes, { view: VIEW, outcome: 'refreshed' })).to.equal(2);
  });

  it("reports each refresh queue's jobs by state, as pg-boss last counted them", async () => {
    const queue = refreshQueue(IDLE_VIEW);
    const id = await boss.send(queue, {}, { startAfter: 3_600, singletonKey: IDLE_VIEW });
    expect(id).to.be.a('string');
    // A pg-boss that counts every second when asked to: the worker's own counts every 15 s.
    const counter = new PgBoss({ connectionString: s.db.url, migrate: false, schedule: false, supervise: false, monitorIntervalSeconds: 1, max: 2 });
    counter.on('error', () => {});
    await counter.start();
    let sc = await scrape();
    try {
      const deadline = Date.now() + 60_000;
      while (sc.sample(REFRESH_METRICS.queueJobs, { queue, state: 'deferred' })?.value !== '1' && Date.now() < deadline) {
        await delay(1_100);
        await counter.supervise(queue);
        sc = await scrape();
      }
    } finally {
      await counter.stop({ graceful: false });
      await boss.deleteJob(queue, id!);
    }
    expect(sc.value(REFRESH_METRICS.queueJobs, { queue, state: 'deferred' })).to.equal(1);
    expect(sc.value(REFRESH_METRICS.queueJobs, { queue, state: 'ready' })).to.equal(0);
    for (const { name } of registeredViews()) {
      expect(sc.sample(REFRESH_METRICS.queueJobs, { queue: refreshQueue(name), state: 'active' }), name).not.to.equal(undefined);
    }
  });

  it('reports its refresh pool as pool="refresh", bounded by one connection per view and two more', async () => {
    const sc = await scrape();
    expect(sc.value(POOL_METRICS.max, { pool: 'refresh' })).to.equal(registeredViews().length + 2);
    expect(sc.value(POOL_METRICS.connections, { pool: 'refresh' })).to.be.at.least(1);
  });
});
