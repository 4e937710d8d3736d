/**
 * /metrics as operators meet it: `npm start` against a DATABASE_URL serving it on PORT, on
 * METRICS_PORT only, or not at all (METRICS=off), and `npm run worker` serving its own on
 * WORKER_METRICS_PORT, with a refresh counted there.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { PgBoss } from 'pg-boss';
import { refreshQueue } from '../../../src/db/tables.ts';
import { ensureDevKeyPair } from '../../../src/auth/dev-keys.ts';
import { VIEWS } from '../../../src/db/tables.ts';
import { REFRESH_METRICS } from '../../../src/metrics/refresh.ts';
import { POOL_METRICS } from '../../../src/metrics/registry.ts';
import { REQUEST_DURATION } from '../../../src/metrics/requests.ts';
import { seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { freePort } from '../../helpers/free-port.ts';
import { ACCESS } from '../../helpers/http.ts';
import { Scrape } from '../../helpers/metrics.ts';
import { finishedJob, observer, quietSchedules } from '../../helpers/refresh-worker.ts';
import { killAllServices, startService, type ServiceProcess } from '../../helpers/service-process.ts';

const HEALTH = { method: 'GET', route: '/health', query: '', status: '200' };

async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(url);
  expect(res.status, url).to.equal(200);
  return new Scrape(await res.text());
}

async function stopped(p: ServiceProcess): Promise<void> {
  p.child.kill('SIGTERM');
  expect(await p.exitCode()).to.equal(0);
}

describe('metrics of the processes operators run', function () {
  this.timeout(180_000);
  let s: SeededDatabase;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    s = await seededDatabase({ runs: 1_000 });
    dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-metrics-'));
    const keys = await ensureDevKeyPair(dir);
    const accessFile = path.join(dir, 'access.json');
    await writeFile(accessFile, JSON.stringify(ACCESS));
    env = { DATABASE_URL: s.db.url, TOKEN_PUBLIC_KEYS_URL: keys.publicKeysFile, ACCESS_CONFIG: accessFile };
  });
  afterEach(killAllServices);
  after(async () => {
    killAllServices();
    await s?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function startApi(extra: Record<string, string>): Promise<{ api: ServiceProcess; base: string }> {
    const port = await freePort();
    const api = startService('src/server.ts', { ...env, PORT: String(port), ...extra });
    await api.waitForMessage('EventStats listening');
    return { api, base: `http://127.0.0.1:${port}` };
  }

  it('npm start with METRICS_PORT=public: /metrics on PORT, counting the requests it served and its pool', async () => {
    const { api, base } = await startApi({ METRICS_PORT: 'public' });
    expect((await fetch(`${base}/health`)).status).to.equal(200);
    const sc = await scrape(`${base}/metrics`);
    expect(sc.count(REQUEST_DURATION, HEALTH)).to.equal(1);
    expect(sc.value(POOL_METRICS.max, { pool: 'api' })).to.equal(10);
    expect(sc.families.has(REFRESH_METRICS.refreshes), 'no worker runs in this process').to.equal(false);
    await stopped(api);
  });

  it('npm start with METRICS_PORT: /metrics there and not on PORT', async () => {
    const metricsPort = await freePort();
    const { api, base } = await startApi({ METRICS_PORT: String(metricsPort) });
    expect(api.lines.find((l) => l.msg === 'EventStats listening')?.metrics).to.equal(`http://localhost:${metricsPort}/metrics`);
    expect((await fetch(`${base}/health`)).status).to.equal(200);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).to.equal(404);
    const sc = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(sc.count(REQUEST_DURATION, HEALTH), "the API's requests, counted on the metrics port").to.equal(1);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/health`)).status, 'the metrics port serves /metrics only').to.equal(404);
    await stopped(api);
  });

  it('npm start with METRICS=off: no /metrics anywhere', async () => {
    const { api, base } = await startApi({ METRICS: 'off' });
    expect((await fetch(`${base}/metrics`)).status).to.equal(404);
    expect(api.lines.find((l) => l.msg === 'EventStats listening')?.metrics).to.equal('off');
    await stopped(api);
  });

  it('npm run worker: its own /metrics on WORKER_METRICS_PORT, where a refresh is counted', async () => {
    const boss: PgBoss = await observer(s.db.url);
    try {
      const worker = startService('jobs/worker.ts', { ...env, REFRESH_SCHEDULES: JSON.stringify(quietSchedules()) });
      await worker.waitForMessage('refresh worker started');
      const port = worker.lines.find((l) => l.msg === 'worker metrics listening')?.port;
      expect(port).to.be.a('number');
      const url = `http://127.0.0.1:${String(port)}/metrics`;
      const view = VIEWS.jobFacts;
      const before = await scrape(url);
      expect(before.value(REFRESH_METRICS.refreshes, { view, outcome: 'refreshed' })).to.equal(0);
      const queue = refreshQueue(view);
      const job = await finishedJob(boss, queue, await boss.send(queue, { force: true }, { singletonKey: view }));
      expect(job.state).to.equal('completed');
      const after = await scrape(url);
      expect(after.value(REFRESH_METRICS.refreshes, { view, outcome: 'refreshed' })).to.equal(1);
      expect(after.value(REFRESH_METRICS.sinceSuccess, { view })).to.be.within(0, 60);
      expect(after.families.has('process_cpu_user_seconds_total')).to.equal(true);
      expect(after.families.has(REQUEST_DURATION), 'no API in this process').to.equal(false);
      await stopped(worker);
    } finally {
      await boss.stop();
    }
  });

  it('npm run worker with METRICS=off: no metrics server', async () => {
    const worker = startService('jobs/worker.ts', { ...env, METRICS: 'off', REFRESH_SCHEDULES: JSON.stringify(quietSchedules()) });
    await worker.waitForMessage('refresh worker started');
    expect(worker.messages).not.to.include('worker metrics listening');
    await stopped(worker);
  });
});
