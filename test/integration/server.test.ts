/**
 * `npm start` end to end, as a newcomer runs it: the all-in-one mode on a fresh DATA_DIR serves
 * /health, a second start reuses the data without re-seeding, and SIGTERM leaves no postgres behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ensureDevKeyPair } from '../../src/auth/dev-keys.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { REFRESH_METRICS } from '../../src/metrics/refresh.ts';
import { POOL_METRICS } from '../../src/metrics/registry.ts';
import { REQUEST_DURATION } from '../../src/metrics/requests.ts';
import { registeredViews } from '../../src/declarations/index.ts';
import { freePort } from '../helpers/free-port.ts';
import { Scrape } from '../helpers/metrics.ts';

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** The port the server bound (PORT=0: the OS chose it), from its 'EventStats listening' line. */
  port(): Promise<number>;
  /** The metrics server's port (METRICS_PORT=0), from the same line. */
  metricsPort(): Promise<number>;
}

const LISTENING_MS = 120_000;

/** Every server a test started; afterEach ends those still running, whatever the test's outcome. */
const started: Started[] = [];

function startServer(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** Waits for the listening line and reads a port from it; fails with the output when the server exits or the deadline passes. */
  const reported = async (pattern: RegExp): Promise<number> => {
    const deadline = Date.now() + LISTENING_MS;
    for (;;) {
      const m = pattern.exec(out);
      if (m) return Number(m[1]);
      if (child.exitCode !== null) throw new Error(`server exited before it said where it listens:\n${out}`);
      if (Date.now() > deadline) throw new Error(`waited ${LISTENING_MS} ms for the server to say where it listens:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const s: Started = {
    child,
    output: () => out,
    exited,
    port: () => reported(/"url":"http:\/\/localhost:(\d+)"/),
    metricsPort: () => reported(/"metrics":"http:\/\/localhost:(\d+)\/metrics"/),
  };
  started.push(s);
  return s;
}

/** SIGTERM (which stops its embedded PostgreSQL too), then SIGKILL if it has not exited within 30 s. */
async function stopStarted(): Promise<void> {
  for (const s of started.splice(0)) {
    if (s.child.exitCode !== null || s.child.signalCode !== null) continue;
    s.child.kill('SIGTERM');
    const timer = setTimeout(() => s.child.kill('SIGKILL'), 30_000);
    await s.exited;
    clearTimeout(timer);
  }
}

async function waitForHealth(started: Started, timeoutMs: number): Promise<Record<string, unknown>> {
  const port = await started.port();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (started.child.exitCode !== null) throw new Error(`server exited early:\n${started.output()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.status === 200) return (await res.json()) as Record<string, unknown>;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no healthy answer within ${timeoutMs} ms:\n${started.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Waits for any HTTP answer on `path` (health may be 503 while views are unrefreshed). */
async function waitForListening(started: Started, timeoutMs: number): Promise<void> {
  const port = await started.port();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (started.child.exitCode !== null) throw new Error(`server exited early:\n${started.output()}`);
    try {
      await fetch(`http://127.0.0.1:${port}/api`);
      return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no answer within ${timeoutMs} ms:\n${started.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function postgresProcessesUnder(dir: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((l) => l.includes('postgres') && l.includes(dir));
}

describe('npm start (all-in-one mode)', function () {
  this.timeout(180_000);
  // Each test has a data folder of its own, and the server binds ports the OS chooses (PORT=0,
  // METRICS_PORT=0) and says which: none depends on another having run first, or on a port staying free.
  let dataDir: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-start-'));
    await chmod(dataDir, 0o755); // like a fresh .data/: the unprivileged postgres user must reach pgdata below it
    env = { DATA_DIR: dataDir, PORT: '0', EMBEDDED_PG_PORT: String(await freePort()), DEMO_RUNS: '300', LOG_LEVEL: 'info', METRICS_PORT: '0' };
  });
  afterEach(async () => {
    await stopStarted();
    expect(postgresProcessesUnder(dataDir), 'no postgres left under the data folder').to.deep.equal([]);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('seeds on first start, serves /health, and stops cleanly on SIGTERM', async () => {
    const s = startServer(env);
    const health = await waitForHealth(s, 120_000);
    const port = await s.port();
    expect(health.status).to.equal('ok');
    expect(s.output()).to.include('demo data seeded');
    expect(s.output()).to.include(`http://localhost:${port}`);
    s.child.kill('SIGTERM');
    expect(await s.exited).to.equal(0);
    expect(postgresProcessesUnder(dataDir)).to.deep.equal([]);
  });

  it('prints the dashboard and docs URLs, serves both, and hands out dev tokens that the API accepts', async () => {
    const s = startServer(env);
    await waitForHealth(s, 120_000);
    const port = await s.port();
    const base = `http://127.0.0.1:${port}`;
    const secret = /\/dashboard\/#dev-secret=([\w-]+) {2}\(its "Get a dev token" button signs one for alice\)/.exec(s.output())?.[1];
    expect(secret, 'the dashboard link carries the secret').to.be.a('string');
    expect(s.output()).to.include(`http://localhost:${port}/docs/  (Authorize with the token of: npm run -s token -- alice)`);
    for (const page of ['/dashboard/', '/docs/']) expect((await fetch(`${base}${page}`)).status, page).to.equal(200);
    expect(await (await fetch(`${base}/dashboard/config.json`)).json()).to.deep.equal({ dev_token_path: '/dev/token' });
    expect((await fetch(`${base}/dev/token`, { method: 'POST' })).status, 'without the secret').to.equal(403);
    const issued = await fetch(`${base}/dev/token`, { method: 'POST', headers: { 'X-Dev-Token-Secret': secret! } });
    expect(issued.status).to.equal(200);
    const { token } = ((await issued.json()) as { data: { token: string } }).data;
    const catalog = await fetch(`${base}/stats/public.cps.za.runs/queries`, { headers: { Authorization: `Bearer ${token}` } });
    expect(catalog.status).to.equal(200);
    s.child.kill('SIGTERM');
    expect(await s.exited).to.equal(0);
    expect(postgresProcessesUnder(dataDir)).to.deep.equal([]);
  });

  it('reuses the data directory on the second start without seeding again', async () => {
    const first = startServer(env);
    await waitForHealth(first, 120_000);
    expect(first.output()).to.include('demo data seeded');
    first.child.kill('SIGTERM');
    expect(await first.exited).to.equal(0);
    const s = startServer(env);
    await waitForHealth(s, 60_000);
    expect(s.output()).not.to.include('demo data seeded');
    s.child.kill('SIGINT');
    expect(await s.exited).to.equal(0);
    expect(postgresProcessesUnder(dataDir)).to.deep.equal([]);
  });

  it('serves the pages but has no POST /dev/token with DATABASE_URL set', async () => {
    const db = await createTestDatabase();
    try {
      const keys = await ensureDevKeyPair(await mkdtemp(path.join(os.tmpdir(), 'eventstats-idp-')));
      const s = startServer({ ...env, DATABASE_URL: db.url, TOKEN_PUBLIC_KEYS_URL: keys.publicKeysFile });
      await waitForListening(s, 60_000);
      const port = await s.port();
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/dashboard/`)).status).to.equal(200);
      expect(await (await fetch(`${base}/dashboard/config.json`)).json()).to.deep.equal({ dev_token_path: null });
      const refused = await fetch(`${base}/dev/token`, { method: 'POST' });
      expect(refused.status).to.equal(404);
      expect(await refused.json()).to.deep.include({ errors: [{ type: 'route', message: 'no route POST /dev/token' }] });
      expect(s.output()).to.include(`http://localhost:${port}/dashboard/  (paste a bearer token)`);
      expect(s.output()).not.to.include('Get a dev token');
      s.child.kill('SIGTERM');
      expect(await s.exited).to.equal(0);
    } finally {
      await db.drop();
    }
  });

  it("serves the in-process worker's metrics with the API's on one /metrics", async () => {
    const s = startServer(env);
    try {
      await waitForHealth(s, 120_000);
      const port = await s.port();
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 'not on the public port').to.equal(404);
      const res = await fetch(`http://127.0.0.1:${await s.metricsPort()}/metrics`);
      expect(res.status).to.equal(200);
      const sc = new Scrape(await res.text());
      expect(sc.count(REQUEST_DURATION, { method: 'GET', route: '/health', query: '', status: '200' })).to.be.at.least(1);
      expect(sc.value(POOL_METRICS.max, { pool: 'api' })).to.equal(10);
      expect(sc.value(POOL_METRICS.max, { pool: 'refresh' })).to.equal(registeredViews().length + 2);
      for (const { name: view } of registeredViews()) {
        expect(sc.sample(REFRESH_METRICS.refreshes, { view, outcome: 'refreshed' }), view).not.to.equal(undefined);
        // The start refreshes every view before serving.
        expect(sc.value(REFRESH_METRICS.sinceSuccess, { view }), view).to.be.within(0, 600);
      }
    } finally {
      s.child.kill('SIGTERM');
      expect(await s.exited).to.equal(0);
    }
    expect(postgresProcessesUnder(dataDir)).to.deep.equal([]);
  });

  it('fails with one clear line and a non-zero exit when DATABASE_URL is unreachable', async () => {
    const keys = path.join(dataDir, 'idp-keys.json'); // read on the first request, never reached here
    const s = startServer({ ...env, DATABASE_URL: `postgres://u:p@127.0.0.1:${await freePort()}/none`, DB_CONNECT_TIMEOUT_MS: '500', TOKEN_PUBLIC_KEYS_URL: keys });
    expect(await s.exited).to.equal(1);
    const lines = s.output().trim().split('\n').filter((l) => l.startsWith('eventstats:'));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/cannot start: the database is unavailable/);
    expect(s.output()).not.to.match(/\n\s+at /); // no stack trace
  });

  it('refuses to start against a DATABASE_URL without a token key source, in one line, rather than verify with the dev keys', async () => {
    const s = startServer({ ...env, DATABASE_URL: `postgres://u:p@127.0.0.1:${await freePort()}/none`, NODE_ENV: 'development' });
    expect(await s.exited).to.equal(1);
    const lines = s.output().trim().split('\n').filter((l) => l.startsWith('eventstats:'));
    expect(lines).to.deep.equal([
      'eventstats: cannot start: DATABASE_URL is set: a deployment requires token_public_keys_url (config.json) or TOKEN_PUBLIC_KEYS_URL (the development key pair verifies the all-in-one mode only)',
    ]);
  });

  it('rejects a malformed DATABASE_URL naming the variable', async () => {
    const s = startServer({ ...env, DATABASE_URL: 'mysql://nope' });
    expect(await s.exited).to.equal(2);
    expect(s.output()).to.match(/DATABASE_URL: must be a postgres:\/\//);
  });
});
