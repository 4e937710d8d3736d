/**
 * How the API fails: a view never refreshed, a database that is down or silent, a statement that
 * runs too long, an unknown route and a bug. Every one answers the error envelope with the right
 * status; none answers a raw 500 or hangs.
 */
import net from 'node:net';
import { expect } from 'chai';
import express from 'express';
import type pg from 'pg';
import { pino } from 'pino';
import request from 'supertest';
import { createExecutor, type Executor } from '../../../src/db/executor.ts';
import { createPool } from '../../../src/db/pool.ts';
import { DatabaseUnavailableError } from '../../../src/core/errors.ts';
import { errorHandler } from '../../../src/http/errors.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { readOnlyPool } from '../../helpers/fixtures.ts';
import { freePort } from '../../helpers/free-port.ts';
import { httpHarness, onlyError, RETRY_AFTER_SECONDS, RUNS_TOPIC, type HttpHarness } from '../../helpers/http.ts';

const FAILED_JOBS = `/stats/${RUNS_TOPIC}/query/failed_jobs`;

function poolTo(connectionString: string, timeouts: { statementTimeoutMs: number; connectTimeoutMs: number }): pg.Pool {
  return createPool({ connectionString, max: 2, ...timeouts, readOnly: true, applicationName: 'eventstats-test' });
}

describe('a view that is not populated (left so by a down migration)', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let pool: pg.Pool;
  let h: HttpHarness;

  before(async () => {
    db = await createTestDatabase();
    // A query's migration builds its view with data (every fact, until the first cycle seals them);
    // only a down migration, or this, leaves one unpopulated.
    await db.pool.query('REFRESH MATERIALIZED VIEW eventstats.mv_job_facts WITH NO DATA');
    pool = readOnlyPool(db.url);
    h = await httpHarness(createExecutor(pool, RETRY_AFTER_SECONDS));
  });
  after(async () => {
    await h?.close();
    await pool?.end();
    await db?.drop();
  });

  it('answers a compiled query with 503 "not_ready" and Retry-After, not 500', async () => {
    const res = await request(h.app).post(FAILED_JOBS).set('Authorization', h.bearer('alice')).send({}).expect(503);
    expect(onlyError(res.body)).to.deep.equal({
      type: 'not_ready',
      message: 'the materialized view has not been populated yet; retry after its first refresh',
    });
    expect(res.body.statusCode).to.equal(503);
    expect(res.headers['retry-after']).to.equal(String(RETRY_AFTER_SECONDS));
  });

  it('still answers the raw endpoint, with no rows', async () => {
    const res = await request(h.app).post(`/stats/${RUNS_TOPIC}`).set('Authorization', h.bearer('alice')).send({}).expect(200);
    expect(res.body.data).to.deep.equal([]);
    expect(res.body.pagination).to.deep.equal({ cursor: null, has_more: false, limit: 50 });
  });

  it('cancels a statement that outlives statement_timeout and reports it as DatabaseUnavailableError', async () => {
    const impatient = poolTo(db.url, { statementTimeoutMs: 100, connectTimeoutMs: 5_000 });
    try {
      let error: unknown;
      await createExecutor(impatient, RETRY_AFTER_SECONDS)
        .query({ text: 'SELECT pg_sleep(1)', values: [] })
        .catch((err: unknown) => (error = err));
      expect(error).to.be.instanceOf(DatabaseUnavailableError);
      expect(error).to.include({ status: 503, type: 'database', retryAfterSeconds: RETRY_AFTER_SECONDS });
      expect((error as Error).message).to.equal('the database did not answer within the statement timeout');
    } finally {
      await impatient.end();
    }
  });
});

describe('a database that cannot be reached', function () {
  this.timeout(5_000);

  /** The app over a pool to `host:port`, which is expected to fail fast. */
  async function appOver(port: number): Promise<{ h: HttpHarness; pool: pg.Pool; executor: Executor }> {
    const pool = poolTo(`postgres://x:y@127.0.0.1:${port}/db`, { statementTimeoutMs: 1_000, connectTimeoutMs: 300 });
    const executor = createExecutor(pool, RETRY_AFTER_SECONDS);
    return { h: await httpHarness(executor), pool, executor };
  }

  async function expectDatabaseUnavailable(h: HttpHarness): Promise<void> {
    const res = await request(h.app).post(`/stats/${RUNS_TOPIC}`).set('Authorization', h.bearer('alice')).send({}).expect(503);
    expect(onlyError(res.body)).to.deep.equal({ type: 'database', message: 'the database is unavailable' });
    expect(res.headers['retry-after']).to.equal(String(RETRY_AFTER_SECONDS));

    const health = await request(h.app).get('/health').expect(503);
    expect(health.headers['retry-after']).to.equal(String(RETRY_AFTER_SECONDS));
    expect(health.body).to.include({ success: false, statusCode: 503, status: 'unavailable' });
    expect(health.body.errors).to.deep.equal([{ type: 'database', message: "health check 'database' failed" }]);
    expect(health.body.checks.database).to.equal('unavailable');
  }

  describe('because nothing listens on its port', () => {
    let app: Awaited<ReturnType<typeof appOver>>;
    before(async () => {
      app = await appOver(await freePort());
    });
    after(async () => {
      await app?.h.close();
      await app?.pool.end();
    });

    it('answers the raw endpoint with 503 "database" and Retry-After, and /health with 503 naming the check', async () => {
      await expectDatabaseUnavailable(app.h);
    });

    it('answers a compiled query with 503 "database"', async () => {
      const res = await request(app.h.app).post(FAILED_JOBS).set('Authorization', app.h.bearer('alice')).send({}).expect(503);
      expect(onlyError(res.body).type).to.equal('database');
    });

    it('logs the outage at error level once a second, not once per request; each answer at info', async () => {
      const lines: { level: number; msg: string; suppressed?: number }[] = [];
      const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
      const logged = await httpHarness(createExecutor(app.pool, RETRY_AFTER_SECONDS), { log });
      try {
        const t0 = Date.now();
        for (let i = 0; i < 20; i++) await request(logged.app).post(FAILED_JOBS).set('Authorization', logged.bearer('alice')).send({}).expect(503);
        const elapsedS = (Date.now() - t0) / 1000;
        const errors = lines.filter((l) => l.level >= 50);
        expect(errors.length, JSON.stringify(errors.map((e) => e.msg))).to.be.within(1, Math.ceil(elapsedS) + 1);
        const answered = lines.filter((l) => (l as { res?: { statusCode?: number } }).res?.statusCode === 503);
        expect(answered.map((l) => l.level), 'one access line per request, at info').to.deep.equal(Array(20).fill(30));
      } finally {
        await logged.close();
      }
    });
  });

  describe('because it refuses the login', () => {
    let db: TestDatabase;
    let pool: pg.Pool;
    let h: HttpHarness;
    const role = `es_no_such_role_${process.pid}`;
    before(async () => {
      db = await createTestDatabase({ migrate: false });
      const url = new URL(db.url);
      url.username = role;
      url.password = 'wrong';
      pool = poolTo(url.toString(), { statementTimeoutMs: 2_000, connectTimeoutMs: 2_000 });
      h = await httpHarness(createExecutor(pool, RETRY_AFTER_SECONDS));
    });
    after(async () => {
      await h?.close();
      await pool?.end();
      await db?.drop();
    });

    it("answers /health (no auth) with statuses only: not the server's words, which name the role", async () => {
      const res = await request(h.app).get('/health').expect(503);
      expect(res.body.checks.database).to.equal('unavailable');
      expect(JSON.stringify(res.body)).not.to.contain(role);
    });
  });

  describe('because its port accepts connections but never answers', () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
    });
    let app: Awaited<ReturnType<typeof appOver>>;
    before(async () => {
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      app = await appOver((silent.address() as net.AddressInfo).port);
    });
    after(async () => {
      await app?.h.close();
      await app?.pool.end();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    it('gives up after the connect timeout with the same 503 answers', async () => {
      await expectDatabaseUnavailable(app.h);
    });
  });
});

describe('routes and bugs', function () {
  this.timeout(5_000);
  /** Routing never reaches the database. */
  const unused: Executor = { query: () => Promise.reject(new Error('the database is not part of this test')) };
  let h: HttpHarness;

  before(async () => {
    h = await httpHarness(unused);
  });
  after(async () => h?.close());

  it('answers 404 "route" to an unknown route, without a token', async () => {
    const res = await request(h.app).get('/nope').expect(404);
    expect(res.body).to.deep.equal({ success: false, statusCode: 404, errors: [{ type: 'route', message: 'no route GET /nope' }] });
  });

  it('answers 404 "route" to a known path with the wrong method', async () => {
    const res = await request(h.app).get(`/stats/${RUNS_TOPIC}`).set('Authorization', h.bearer('alice')).expect(404);
    expect(onlyError(res.body)).to.deep.equal({ type: 'route', message: `no route GET /stats/${RUNS_TOPIC}` });
  });

  describe('a bug behind errorHandler()', () => {
    const secret = 'password=hunter2 in SELECT * FROM secrets';
    const app = express();
    app.get('/throws', () => {
      throw new Error(secret);
    });
    app.get('/rejects', async () => {
      await Promise.resolve();
      throw Object.assign(new Error(secret), { code: '42P01', detail: secret });
    });
    app.get('/throws-a-string', () => {
      throw secret;
    });
    for (const [path, error] of [
      ['/fails-mid-body', new Error(secret)],
      ['/fails-mid-body-503', new DatabaseUnavailableError('the database is unavailable', RETRY_AFTER_SECONDS)],
    ] as const) {
      app.get(path, async (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"data":[');
        await Promise.resolve();
        throw error;
      });
    }
    app.use(errorHandler());

    for (const path of ['/fails-mid-body', '/fails-mid-body-503']) {
      it(`closes the connection when the failure comes after the response started (${path})`, async () => {
        let failure: unknown;
        await request(app)
          .get(path)
          .then(undefined, (err: unknown) => (failure = err));
        expect(failure).to.be.instanceOf(Error);
        expect((failure as Error).message).not.to.include('hunter2');
      });
    }

    for (const path of ['/throws', '/rejects', '/throws-a-string']) {
      it(`answers 500 "internal" without the error's text (${path})`, async () => {
        const res = await request(app).get(path).expect(500);
        expect(res.body).to.deep.equal({ success: false, statusCode: 500, errors: [{ type: 'internal', message: 'internal error' }] });
        expect(res.text).not.to.include('hunter2');
        expect(res.text).not.to.include('SELECT');
      });
    }
  });
});
