/**
 * `npm start` with WEB_CONCURRENCY against a DATABASE_URL: the primary forks API processes that
 * share PORT, sums their metrics on METRICS_PORT, replaces one that dies, and on SIGTERM lets every
 * one drain and exit before it exits itself, leaving no process and no database session behind.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import { ensureDevKeyPair } from '../../../src/auth/dev-keys.ts';
import { POOL_METRICS } from '../../../src/metrics/registry.ts';
import { REQUEST_DURATION } from '../../../src/metrics/requests.ts';
import { seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { freePort } from '../../helpers/free-port.ts';
import { ACCESS } from '../../helpers/http.ts';
import { Scrape } from '../../helpers/metrics.ts';
import { killAllServices, startService, type ServiceProcess } from '../../helpers/service-process.ts';

const HEALTH = { method: 'GET', route: '/health', query: '', status: '200' };

/** GET on a connection of its own, so that the cluster hands each request to the next process. */
function getOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** PIDs of the API processes that logged an answer to `url` (pino-http's line carries the process's pid). */
function answeringPids(p: ServiceProcess, url: string): Set<number> {
  return new Set(p.lines.filter((l) => l.msg === 'request completed' && (l.req as { url?: string } | undefined)?.url === url).map((l) => l.pid as number));
}

function listeningPids(p: ServiceProcess): number[] {
  return p.lines.filter((l) => l.msg === 'API process listening').map((l) => l.pid as number);
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${limitMs} ms: ${what}`);
    await delay(100);
  }
}

describe('npm start with WEB_CONCURRENCY (node:cluster)', function () {
  this.timeout(180_000);
  let s: SeededDatabase;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    s = await seededDatabase({ runs: 500 });
    dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-cluster-'));
    const keys = await ensureDevKeyPair(dir);
    const accessFile = path.join(dir, 'access.json');
    await writeFile(accessFile, JSON.stringify(ACCESS));
    env = { DATABASE_URL: s.db.url, TOKEN_PUBLIC_KEYS_URL: keys.publicKeysFile, ACCESS_CONFIG: accessFile, DB_POOL_MAX: '3' };
  });
  afterEach(killAllServices);
  after(async () => {
    killAllServices();
    await s?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function apiSessions(): Promise<number> {
    const { rows } = await s.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'eventstats-api'`,
    );
    return rows[0]!.n;
  }

  it('serves PORT from two processes, logs the sessions they may open, sums their metrics on METRICS_PORT, and replaces one that dies', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const api = startService('src/server.ts', { ...env, PORT: String(port), METRICS_PORT: String(metricsPort), WEB_CONCURRENCY: '2' });
    await api.waitForMessage('EventStats listening');
    const start = api.lines.find((l) => l.msg.startsWith('starting 2 API processes'));
    expect(start, api.messages.join(' | ')).to.include({ processes: 2, poolMaxPerProcess: 3, sessionsAtMost: 6 });
    // Each process logs its own listening line on the pipe the primary's banner shares: either may come first.
    await waitFor('both API processes logged their listening line', () => listeningPids(api).length >= 2);
    const pids = listeningPids(api);
    expect(pids).to.have.length(2);

    const health = `http://127.0.0.1:${port}/health`;
    for (let i = 0; i < 8; i++) expect(await getOnNewConnection(health)).to.equal(200);
    await waitFor('both processes logged their answers', () => answeringPids(api, '/health').size === 2);
    expect([...answeringPids(api, '/health')].sort()).to.deep.equal([...pids].sort());

    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).to.equal(200);
    const scrape = new Scrape(await res.text());
    expect(scrape.count(REQUEST_DURATION, HEALTH), 'the requests of both processes').to.equal(8);
    expect(scrape.value(POOL_METRICS.max, { pool: 'api' }), 'two pools of DB_POOL_MAX').to.equal(6);
    const onPort = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(onPort.status, 'no single-process /metrics on PORT').to.equal(404);
    await onPort.arrayBuffer();

    process.kill(pids[0]!, 'SIGKILL');
    await api.waitForMessage('an API process died; starting another');
    const died = api.lines.find((l) => l.msg === 'an API process died; starting another');
    expect(died).to.include({ pid: pids[0], signal: 'SIGKILL' });
    await waitFor('a third process listening', () => listeningPids(api).length === 3);
    const replacement = listeningPids(api)[2]!;
    for (let i = 0; i < 6; i++) expect(await getOnNewConnection(health)).to.equal(200);
    await waitFor('the replacement answered', () => answeringPids(api, '/health').has(replacement));

    api.child.kill('SIGTERM');
    expect(await api.exitCode()).to.equal(0);
    for (const pid of [...pids, replacement]) expect(alive(pid), `API process ${pid} is gone`).to.equal(false);
    await waitFor('the API sessions are closed', async () => (await apiSessions()) === 0);
  });

  it('on SIGTERM lets every process finish its requests and end its pool before the primary exits', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const api = startService('src/server.ts', { ...env, PORT: String(port), METRICS_PORT: String(metricsPort), WEB_CONCURRENCY: '2' });
    await api.waitForMessage('EventStats listening');
    await waitFor('both API processes logged their listening line', () => listeningPids(api).length >= 2);
    const pids = listeningPids(api);
    expect(pids).to.have.length(2);
    for (let i = 0; i < 4; i++) expect(await getOnNewConnection(`http://127.0.0.1:${port}/health`)).to.equal(200);
    expect(await apiSessions()).to.be.greaterThan(0);
    api.child.kill('SIGTERM');
    expect(await api.exitCode()).to.equal(0);
    // Each process logged its own shutdown: they drained rather than being killed with the primary.
    const shutdowns = api.lines.filter((l) => l.msg === 'shutting down').map((l) => l.pid as number);
    for (const pid of pids) expect(shutdowns, `process ${pid} shut down by itself`).to.include(pid);
    expect(api.stderr()).to.equal('');
    for (const pid of pids) expect(alive(pid)).to.equal(false);
    await waitFor('the API sessions are closed', async () => (await apiSessions()) === 0);
  });

  it('refuses WEB_CONCURRENCY above 1 without METRICS_PORT while metrics are on, and a value that is not a count', async () => {
    const port = await freePort();
    const noMetricsPort = startService('src/server.ts', { ...env, PORT: String(port), METRICS_PORT: 'public', WEB_CONCURRENCY: '2' });
    expect(await noMetricsPort.exitCode()).to.equal(2);
    expect(noMetricsPort.stderr()).to.match(/WEB_CONCURRENCY=2 with METRICS=on needs a METRICS_PORT other than public/);
    const bad = startService('src/server.ts', { ...env, PORT: String(port), WEB_CONCURRENCY: 'many' });
    expect(await bad.exitCode()).to.equal(2);
    expect(bad.stderr()).to.match(/WEB_CONCURRENCY: must be a whole number of processes/);
  });

  it('stops at start, leaving nothing behind, when the processes cannot reach the database', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const closed = await freePort();
    const api = startService('src/server.ts', {
      ...env,
      DATABASE_URL: `postgres://nobody@127.0.0.1:${closed}/none`,
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      WEB_CONCURRENCY: '2',
      DB_CONNECT_TIMEOUT_MS: '500',
    });
    expect(await api.exitCode()).to.equal(1);
    expect(api.stderr()).to.match(/cannot start: API process \d+ exited \(code 1\) before it listened/);
  });
});
