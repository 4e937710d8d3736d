/**
 * EventStats behind a real PgBouncer in `pool_mode = transaction` (issue 16, item 2), with fewer
 * server connections than the API has clients, so that server sessions really are shared: the API
 * answers exactly what it answers directly, never a 5xx, and the refresh worker and `npm run refresh`
 * refuse to run there rather than hold their single-flight lock on a session they do not own.
 * Skipped, saying so, where PgBouncer is not installed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import request from 'supertest';
import { ensureDevKeyPair } from '../../../src/auth/dev-keys.ts';
import { ConfigError, loadConfig } from '../../../src/core/config.ts';
import { createExecutor, type Executor } from '../../../src/db/executor.ts';
import { createPool } from '../../../src/db/pool.ts';
import { SessionMode } from '../../../src/db/session-mode.ts';
import { TABLES } from '../../../src/db/tables.ts';
import { SUPPORTED_QUERIES } from '../../../src/declarations/index.ts';
import { PartsCache } from '../../../src/read/parts-cache.ts';
import { DAY_MS } from '../../../src/rollup/window.ts';
import { BEHIND_TRANSACTION_POOLER, behindTransactionPooler } from '../../../src/refresh/direct-session.ts';
import { createApiDatabase } from '../../../src/runtime.ts';
import { compareAll, expectSameRows } from '../../helpers/exact.ts';
import { NOW, seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { freePort } from '../../helpers/free-port.ts';
import { ACCESS, httpHarness, RUNS_TOPIC, type HttpHarness } from '../../helpers/http.ts';
import { requirePgBouncer, startPgBouncer, type PgBouncer } from '../../helpers/pgbouncer.ts';
import { testWorker } from '../../helpers/refresh-worker.ts';
import { killAllServices, startService } from '../../helpers/service-process.ts';

const POOL_SIZE = 4; // PgBouncer's server connections
const API_POOL_MAX = 12; // each API instance's clients: two instances, 24 clients on 4 server connections
const silent = pino({ level: 'silent' });

/** The API's pool and executor as src/runtime.ts builds them, for DB_POOLER = `pooler`. */
async function apiDatabase(url: string, pooler: 'auto' | 'none' | 'transaction') {
  const config = loadConfig({ CONF_DIR: os.tmpdir(), DB_POOLER: pooler, DB_POOL_MAX: String(API_POOL_MAX), DB_STATEMENT_TIMEOUT_MS: '20000' });
  return createApiDatabase(config.db, url, silent);
}

const WINDOWS = [
  { timestamp_start: NOW - 7 * DAY_MS, timestamp_end: NOW },
  { timestamp_start: NOW - 30 * DAY_MS + 3_600_123, timestamp_end: NOW - 2 * DAY_MS - 17 },
];

/** Every compiled query (default and explicit window) and the raw endpoint. */
function mixedRequests(): { path: string; body: object }[] {
  const out: { path: string; body: object }[] = [];
  for (const q of SUPPORTED_QUERIES) {
    out.push({ path: `/stats/${q.topic}/query/${q.name}`, body: {} });
    out.push({ path: `/stats/${q.topic}/query/${q.name}`, body: { ...WINDOWS[1] } });
  }
  out.push({ path: `/stats/${RUNS_TOPIC}`, body: { limit: 50 } });
  out.push({ path: `/stats/${RUNS_TOPIC}`, body: { ...WINDOWS[0], limit: 200 } });
  return out;
}

/** The answer without what may differ between two reads of the same data (when its source was checked). */
function comparable(body: unknown): unknown {
  const b = body as { meta?: Record<string, unknown> };
  if (!b.meta) return body;
  const { source_checked_at: _checked, ...meta } = b.meta;
  return { ...b, meta };
}

/** `total` requests, all in flight at once, over the harnesses in turn: the statuses seen. */
async function load(harnesses: readonly HttpHarness[], total: number): Promise<number[]> {
  const reqs = mixedRequests();
  return Promise.all(
    Array.from({ length: total }, async (_, i) => {
      const h = harnesses[i % harnesses.length]!;
      if (i % 10 === 9) return (await request(h.app).get('/health')).status;
      const r = reqs[i % reqs.length]!;
      return (await request(h.app).post(r.path).set('Authorization', h.bearer('alice')).send(r.body)).status;
    }),
  );
}

describe('through PgBouncer in transaction mode', function () {
  this.timeout(300_000);
  let s: SeededDatabase;
  let bouncer: PgBouncer;
  const closing: (() => Promise<unknown>)[] = [];

  before(async function () {
    requirePgBouncer();
    s = await seededDatabase({ runs: 2_000, days: 30 });
    bouncer = await startPgBouncer(s.db.url, { defaultPoolSize: POOL_SIZE });
  });
  after(async () => {
    killAllServices();
    for (const c of closing.reverse()) await c().catch(() => {});
    await bouncer?.stop();
    await s?.close();
  });

  async function harness(executor: Executor): Promise<HttpHarness> {
    const h = await httpHarness(executor);
    closing.push(() => h.close());
    return h;
  }

  describe('the API', () => {
    let direct: HttpHarness;
    let pooled: HttpHarness;
    let other: HttpHarness;
    let pooledExecutor: Executor;

    before(async () => {
      const d = await apiDatabase(s.db.url, 'auto');
      const p = await apiDatabase(bouncer.url, 'auto');
      const o = await apiDatabase(bouncer.url, 'transaction');
      closing.push(() => d.pool.end(), () => p.pool.end(), () => o.pool.end());
      expect(d.session.mode, 'direct: startup settings and named statements, as before').to.equal('none');
      expect(p.session.mode, 'through PgBouncer, DB_POOLER=auto settles on the transaction mode').to.equal('transaction');
      pooledExecutor = p.executor;
      direct = await harness(d.executor);
      pooled = await harness(p.executor);
      other = await harness(o.executor);
    });

    it('answers every compiled query and the raw endpoint exactly as it answers directly', async () => {
      for (const r of mixedRequests()) {
        const a = await request(direct.app).post(r.path).set('Authorization', direct.bearer('alice')).send(r.body);
        const b = await request(pooled.app).post(r.path).set('Authorization', pooled.bearer('alice')).send(r.body);
        expect(a.status, `${r.path} ${JSON.stringify(r.body)} directly`).to.equal(200);
        expect(b.status, `${r.path} ${JSON.stringify(r.body)} through PgBouncer: ${JSON.stringify(b.body)}`).to.equal(200);
        expect(comparable(b.body), r.path).to.deep.equal(comparable(a.body));
      }
    });

    it('answers every compiled query shape as the oracle does, in real time and as of the refresh', async () => {
      for (const realtime of [true, false]) {
        const compared = await compareAll(s.db.pool, WINDOWS, NOW, { executor: pooledExecutor, realtime });
        expect(compared.length).to.be.greaterThan(0);
        for (const c of compared) expectSameRows(c.actual, c.expected, { realtime, ...c.context });
      }
    });

    it('answers 240 mixed concurrent requests from 24 clients on 4 server connections without a single 5xx', async () => {
      const statuses = await load([pooled, other], 240);
      expect(statuses.filter((st) => st >= 500), 'the 5xx answers').to.deep.equal([]);
      expect(new Set(statuses)).to.deep.equal(new Set([200]));
    });

    it('is healthy: /health answers 200', async () => {
      const res = await request(pooled.app).get('/health').expect(200);
      expect(res.body).to.include({ status: 'ok' });
    });
  });

  describe('named prepared statements forced through it (DB_POOLER=none without startup settings)', () => {
    it('retries a lost or duplicate prepared statement unnamed and never answers 5xx', async () => {
      const pool = createPool({ connectionString: bouncer.url, max: API_POOL_MAX, statementTimeoutMs: 20_000, connectTimeoutMs: 5_000, readOnly: true, applicationName: 'eventstats-test', startupSettings: false });
      closing.push(() => pool.end());
      const retried: unknown[] = [];
      const named = (p: typeof pool) => createExecutor(p, { retryAfterSeconds: 1, session: new SessionMode(p, 'none'), onRetry: (err) => retried.push(err) });
      const second = createPool({ connectionString: bouncer.url, max: API_POOL_MAX, statementTimeoutMs: 20_000, connectTimeoutMs: 5_000, readOnly: true, applicationName: 'eventstats-test', startupSettings: false });
      closing.push(() => second.end());
      const statuses = await load([await harness(named(pool)), await harness(named(second))], 240);
      expect(statuses.filter((st) => st >= 500), 'the 5xx answers').to.deep.equal([]);
      expect(retried.length, 'PgBouncer did lose prepared statements between server connections (what is being tested)').to.be.greaterThan(0);
      for (const err of retried) expect((err as { code?: string }).code ?? (err as Error).message).to.match(/26000|42P05|prepared statement/);
    });

    it('answers every compiled query shape as the oracle does with statements named by their shape (src/read/parts-statement.ts)', async () => {
      const pool = createPool({ connectionString: bouncer.url, max: 4, statementTimeoutMs: 20_000, connectTimeoutMs: 5_000, readOnly: true, applicationName: 'eventstats-test', startupSettings: false });
      closing.push(() => pool.end());
      const retried: unknown[] = [];
      const inner = createExecutor(pool, { retryAfterSeconds: 1, session: new SessionMode(pool, 'none'), preparedMax: 3, onRetry: (err) => retried.push(err) });
      const shaped = new Set<string>();
      const executor: Executor = {
        query: (q) => {
          if (q.name?.startsWith('es_')) shaped.add(q.name);
          return inner.query(q);
        },
      };
      // One cache across the passes: the second reads its segments from it, so its statements are the named ones.
      const cache = new PartsCache({ stateTtlMs: 0 });
      for (const realtime of [true, false, true]) {
        const compared = await compareAll(s.db.pool, WINDOWS, NOW, { executor, cache, realtime });
        for (const c of compared) expectSameRows(c.actual, c.expected, { realtime, ...c.context });
      }
      expect(shaped.size, 'request shapes ran named statements (what is being tested), more than a connection keeps').to.be.greaterThan(3);
      for (const err of retried) expect((err as { code?: string }).code ?? (err as Error).message).to.match(/26000|42P05|prepared statement/);
    });
  });

  describe('npm start (src/server.ts) with the default DB_POOLER', () => {
    let dir: string;
    after(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('starts through PgBouncer, warning once that it runs in the transaction mode, and serves /health and queries', async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-pooler-'));
      const keys = await ensureDevKeyPair(dir);
      const accessFile = path.join(dir, 'access.json');
      await writeFile(accessFile, JSON.stringify(ACCESS));
      const port = await freePort();
      const api = startService('src/server.ts', { DATABASE_URL: bouncer.url, PORT: String(port), TOKEN_PUBLIC_KEYS_URL: keys.publicKeysFile, ACCESS_CONFIG: accessFile });
      await api.waitForMessage('EventStats listening');
      expect(api.messages.filter((m) => m.includes('transaction-mode pooler'))).to.have.length(1);
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/health`)).status).to.equal(200);
      api.child.kill('SIGTERM');
      expect(await api.exitCode()).to.equal(0);
    });
  });

  describe('the refresh worker and npm run refresh', () => {
    it('tell a transaction pooler from a direct connection and from a session-mode PgBouncer', async () => {
      expect(await behindTransactionPooler(bouncer.url), 'transaction mode').to.equal(true);
      expect(await behindTransactionPooler(s.db.url), 'direct').to.equal(false);
      const session = await startPgBouncer(s.db.url, { poolMode: 'session', defaultPoolSize: POOL_SIZE });
      try {
        expect(await behindTransactionPooler(session.url), 'session mode').to.equal(false);
      } finally {
        await session.stop();
      }
    });

    it('tells a transaction pooler of a single server connection too, instead of waiting forever', async () => {
      const one = await startPgBouncer(s.db.url, { defaultPoolSize: 1 });
      try {
        expect(await behindTransactionPooler(one.url)).to.equal(true);
      } finally {
        await one.stop();
      }
    });

    it('the worker refuses to start, naming the fix, and registers nothing', async () => {
      const logged = async () => Number((await s.db.pool.query(`SELECT count(*) AS n FROM ${TABLES.refreshLog}`)).rows[0].n);
      const before = await logged();
      const worker = testWorker(bouncer.url);
      const err = await worker.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      await worker.stop();
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.equal(BEHIND_TRANSACTION_POOLER);
      expect(await logged(), 'no refresh ran').to.equal(before);
    });

    it('npm run refresh -- --force exits 2 with one line naming the fix, and refreshes nothing', async () => {
      const logged = async () => Number((await s.db.pool.query(`SELECT count(*) AS n FROM ${TABLES.refreshLog}`)).rows[0].n);
      const before = await logged();
      const cli = startService('src/cli/refresh.ts', { DATABASE_URL: bouncer.url }, ['--force']);
      expect(await cli.exitCode(), cli.stderr()).to.equal(2);
      expect(cli.stderr().trim().split('\n')).to.deep.equal([`refresh: ${BEHIND_TRANSACTION_POOLER}`]);
      expect(await logged(), 'no refresh ran').to.equal(before);
    });
  });
});
