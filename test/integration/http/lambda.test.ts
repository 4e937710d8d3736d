/**
 * The Lambda entry: configured from the environment on its first call, it must answer API Gateway
 * REST (v1) and HTTP API (v2) events exactly as the same app answers supertest.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import type { Express } from 'express';
import { pino } from 'pino';
import request from 'supertest';
import { createApp } from '../../../src/app.ts';
import { loadConfig } from '../../../src/core/config.ts';
import { TABLES } from '../../../src/db/tables.ts';
import { lambdaConfig } from '../../../src/lambda.ts';
import { DAY_MS } from '../../../src/rollup/window.ts';
import { createApiRuntime, type ApiRuntime } from '../../../src/runtime.ts';
import { NOW, seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { httpHarness, RUNS_TOPIC, type HttpHarness } from '../../helpers/http.ts';

type Handler = (event: object, context: object) => Promise<object>;

interface LambdaAnswer {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

interface Call {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** Query-string pairs, in order, a key possibly repeated. */
  readonly query?: readonly (readonly [string, string])[];
}

const search = (call: Call) => new URLSearchParams((call.query ?? []).map(([k, v]): [string, string] => [k, v])).toString();

/** An API Gateway REST API (payload 1.0) proxy event. */
function restEvent(call: Call, base64 = false): object {
  const body = call.body === undefined ? null : base64 ? Buffer.from(call.body).toString('base64') : call.body;
  return {
    resource: '/{proxy+}',
    path: call.path,
    httpMethod: call.method,
    headers: call.headers,
    multiValueHeaders: Object.fromEntries(Object.entries(call.headers).map(([k, v]) => [k, [v]])),
    // As API Gateway sends them: the last value of each key, and every value.
    queryStringParameters: call.query?.length ? Object.fromEntries(call.query) : null,
    multiValueQueryStringParameters: call.query?.length
      ? Object.fromEntries([...new Set(call.query.map(([k]) => k))].map((k) => [k, call.query!.filter(([q]) => q === k).map(([, v]) => v)]))
      : null,
    pathParameters: { proxy: call.path.slice(1) },
    stageVariables: null,
    requestContext: {
      resourcePath: '/{proxy+}',
      httpMethod: call.method,
      path: `/prod${call.path}`,
      stage: 'prod',
      requestId: randomUUID(),
      accountId: '123456789012',
      apiId: 'abcdef',
      identity: { sourceIp: '127.0.0.1', userAgent: 'eventstats-test' },
    },
    body,
    isBase64Encoded: base64,
  };
}

/** An API Gateway HTTP API (payload 2.0) event. */
function httpApiEvent(call: Call): object {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: call.path,
    rawQueryString: search(call),
    headers: Object.fromEntries(Object.entries(call.headers).map(([k, v]) => [k.toLowerCase(), v])),
    requestContext: {
      accountId: '123456789012',
      apiId: 'abcdef',
      domainName: 'abcdef.example.test',
      http: { method: call.method, path: call.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'eventstats-test' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: '20/Nov/2026:13:37:21 +0000',
      timeEpoch: NOW,
    },
    body: call.body,
    isBase64Encoded: false,
  };
}

const CONTEXT = { awsRequestId: 'test-request', functionName: 'eventstats-api', callbackWaitsForEmptyEventLoop: true };

/** Drops what depends on the wall clock between two answers (staleness). */
function withoutClock(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutClock);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'staleness_ms').map(([k, v]) => [k, withoutClock(v)]));
}

const ENV_KEYS = ['DATABASE_URL', 'TOKEN_PUBLIC_KEYS_URL', 'ACCESS_CONFIG', 'LOG_LEVEL'] as const;

describe('the Lambda handler', function () {
  this.timeout(120_000);
  let s: SeededDatabase;
  let h: HttpHarness;
  let handler: Handler;
  let close: () => Promise<void>;
  let reference: { app: Express; runtime: ApiRuntime };
  const savedEnv: Partial<Record<(typeof ENV_KEYS)[number], string>> = {};

  before(async () => {
    s = await seededDatabase({ runs: 500, days: 30 });
    h = await httpHarness(s.executor);
    for (const key of ENV_KEYS) savedEnv[key] = process.env[key];
    Object.assign(process.env, { DATABASE_URL: s.db.url, TOKEN_PUBLIC_KEYS_URL: h.keysFile, ACCESS_CONFIG: h.accessFile, LOG_LEVEL: 'silent' });
    ({ handler, close } = await import('../../../src/lambda.ts'));
    // The same app, built from the same environment, for supertest.
    // With /metrics on its port (METRICS_PORT=public), as a server could serve it; the Lambda never does.
    const runtime = await createApiRuntime(loadConfig({ ...process.env, METRICS_PORT: 'public' }), s.db.url, pino({ level: 'silent' }));
    reference = { app: createApp(runtime.deps), runtime };
  });
  after(async () => {
    for (const key of ENV_KEYS) {
      if (savedEnv[key] === undefined) delete process.env[key];
      else process.env[key] = savedEnv[key];
    }
    await close();
    await reference?.runtime.pool.end();
    await h?.close();
    await s?.close();
  });

  async function viaSupertest(call: Call) {
    const path = call.query?.length ? `${call.path}?${search(call)}` : call.path;
    const req = call.method === 'GET' ? request(reference.app).get(path) : request(reference.app).post(path);
    for (const [k, v] of Object.entries(call.headers)) req.set(k, v);
    return call.body === undefined ? req : req.send(call.body);
  }

  async function invoke(event: object): Promise<LambdaAnswer> {
    return (await handler(event, CONTEXT)) as LambdaAnswer;
  }

  const queryCall = (): Call => ({
    method: 'POST',
    path: `/stats/${RUNS_TOPIC}/query/failed_jobs`,
    headers: { Authorization: h.bearer('alice'), 'Content-Type': 'application/json' },
    body: JSON.stringify({ timestamp_start: NOW - 7 * DAY_MS, timestamp_end: NOW, group_by: ['tenant_id'], limit: 20 }),
  });
  const healthCall: Call = { method: 'GET', path: '/health', headers: {} };

  for (const [label, toEvent] of [
    ['a REST API (v1) event', (c: Call) => restEvent(c)],
    ['an HTTP API (v2) event', httpApiEvent],
  ] as const) {
    describe(`given ${label}`, () => {
      it('answers POST /stats/public.cps.za.runs/query/failed_jobs as supertest does', async () => {
        const expected = await viaSupertest(queryCall());
        const actual = await invoke(toEvent(queryCall()));
        expect(expected.status).to.equal(200);
        expect(actual.statusCode).to.equal(expected.status);
        const body = JSON.parse(actual.body) as { data: unknown[] };
        expect(body.data).to.have.length.greaterThan(0);
        expect(body.data).to.deep.equal(expected.body.data);
        expect(withoutClock(body)).to.deep.equal(withoutClock(expected.body));
        expect(actual.headers['last-modified']).to.equal(expected.headers['last-modified']);
      });

      it('answers a GET of a compiled query, lists as repeated keys and comma lists, and its CSV, as supertest does', async () => {
        // A fixed window: the Lambda's clock is the wall clock.
        const window: [string, string][] = [['timestamp_start', String(NOW - 30 * DAY_MS)], ['timestamp_end', String(NOW)]];
        const query: [string, string][] = [...window, ['group_by', 'tenant_id,environment'], ['environment', 'prod'], ['environment', 'uat'], ['limit', '20']];
        const call: Call = { method: 'GET', path: `/stats/${RUNS_TOPIC}/query/failed_jobs`, headers: { Authorization: h.bearer('alice') }, query };
        const expected = await viaSupertest(call);
        const actual = await invoke(toEvent(call));
        expect(expected.status).to.equal(200);
        expect(actual.statusCode).to.equal(200);
        const body = JSON.parse(actual.body) as { data: unknown[]; params: unknown };
        expect(body.params).to.deep.include({ group_by: ['tenant_id', 'environment'], environment: ['prod', 'uat'] });
        expect(body.data).to.have.length.greaterThan(0);
        expect(withoutClock(body)).to.deep.equal(withoutClock(expected.body));
        expect(actual.headers.etag).to.match(/^W\/"/);
        expect(actual.headers.etag).to.equal(expected.headers.etag);
        expect(actual.headers['cache-control']).to.match(/^private, max-age=\d+$/);
        expect(actual.headers.vary).to.equal(expected.headers.vary);

        const csvCall: Call = { ...call, query: [...query, ['format', 'csv']] };
        const csvExpected = await viaSupertest(csvCall);
        const csvActual = await invoke(toEvent(csvCall));
        expect(csvActual.statusCode).to.equal(200);
        expect(csvActual.headers['content-type']).to.equal('text/csv; charset=utf-8');
        expect(csvActual.body).to.equal(csvExpected.text);
        expect(csvActual.headers.etag).to.equal(csvExpected.headers.etag);
      });

      it('answers GET /health as supertest does', async () => {
        const expected = await viaSupertest(healthCall);
        const actual = await invoke(toEvent(healthCall));
        expect(expected.status).to.equal(200);
        expect(actual.statusCode).to.equal(expected.status);
        expect(withoutClock(JSON.parse(actual.body))).to.deep.equal(withoutClock(expected.body));
        expect(Object.keys(expected.body.checks as object)).to.have.members(['database', 'views']);
      });

      it('answers 401 without a token, as supertest does', async () => {
        const call = { ...queryCall(), headers: { 'Content-Type': 'application/json' } };
        const expected = await viaSupertest(call);
        const actual = await invoke(toEvent(call));
        expect(expected.status).to.equal(401);
        expect(actual.statusCode).to.equal(401);
        expect(JSON.parse(actual.body)).to.deep.equal(expected.body);
      });
    });
  }

  it('serves no /metrics, whatever METRICS says: a 404 like any unknown route (the same app on a server answers it)', async () => {
    const call: Call = { method: 'GET', path: '/metrics', headers: {} };
    expect((await viaSupertest(call)).status, 'METRICS is on in this environment').to.equal(200);
    const actual = await invoke(restEvent(call));
    expect(actual.statusCode).to.equal(404);
    expect((JSON.parse(actual.body) as { errors: { type: string }[] }).errors[0]?.type).to.equal('route');
  });

  it('decodes a base64-encoded REST API body', async () => {
    const actual = await invoke(restEvent(queryCall(), true));
    const expected = await viaSupertest(queryCall());
    expect(actual.statusCode).to.equal(200);
    expect((JSON.parse(actual.body) as { data: unknown }).data).to.deep.equal(expected.body.data);
  });
});

describe('a Lambda instance and its database session', function () {
  this.timeout(120_000);
  const KEYS = ['DATABASE_URL', 'TOKEN_PUBLIC_KEYS_URL', 'ACCESS_CONFIG', 'LOG_LEVEL', 'DB_POOL_MAX', 'VIEW_STATE_TTL_MS', 'DB_CONNECT_TIMEOUT_MS', 'DB_STATEMENT_TIMEOUT_MS'] as const;
  let s: SeededDatabase;
  let h: HttpHarness;
  let handler: Handler;
  let close: () => Promise<void>;
  const saved: Partial<Record<(typeof KEYS)[number], string>> = {};

  before(async () => {
    s = await seededDatabase({ runs: 200, days: 30 });
    h = await httpHarness(s.executor);
    for (const key of KEYS) saved[key] = process.env[key];
    // Every request reads the view state (so it needs a session), and nothing times out while a test holds a lock.
    Object.assign(process.env, {
      DATABASE_URL: s.db.url,
      TOKEN_PUBLIC_KEYS_URL: h.keysFile,
      ACCESS_CONFIG: h.accessFile,
      LOG_LEVEL: 'silent',
      VIEW_STATE_TTL_MS: '0',
      DB_CONNECT_TIMEOUT_MS: '60000',
      DB_STATEMENT_TIMEOUT_MS: '60000',
    });
    delete process.env.DB_POOL_MAX;
    ({ handler, close } = await import('../../../src/lambda.ts'));
  });
  afterEach(async () => {
    await close();
    delete process.env.DB_POOL_MAX;
  });
  after(async () => {
    for (const key of KEYS) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
    await h?.close();
    await s?.close();
  });

  /** Backend PIDs of the Lambda's sessions (the API's application_name; nothing else here uses it). */
  async function lambdaSessions(waitingOnLock = false): Promise<number[]> {
    const { rows } = await s.db.pool.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'eventstats-api'
          AND ($1::bool IS FALSE OR wait_event_type = 'Lock') ORDER BY pid`,
      [waitingOnLock],
    );
    return rows.map((r) => r.pid);
  }

  const query = () =>
    restEvent({
      method: 'POST',
      path: `/stats/${RUNS_TOPIC}/query/failed_jobs`,
      headers: { Authorization: h.bearer('alice'), 'Content-Type': 'application/json' },
      body: JSON.stringify({ timestamp_start: NOW - 7 * DAY_MS, timestamp_end: NOW, group_by: ['tenant_id'] }),
    });
  const invoke = async () => ((await handler(query(), CONTEXT)) as LambdaAnswer).statusCode;

  /** Holds the refresh log exclusively, so that every query waits on its view state with its connection in hand. */
  async function withRefreshLogLocked<T>(during: () => Promise<T>): Promise<T> {
    const client = await s.db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`LOCK TABLE ${TABLES.refreshLog} IN ACCESS EXCLUSIVE MODE`);
      return await during();
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }

  async function waitForSessionsOnLock(n: number): Promise<void> {
    const deadline = Date.now() + 20_000;
    while ((await lambdaSessions(true)).length < n) {
      if (Date.now() > deadline) throw new Error(`fewer than ${n} Lambda sessions waited on the lock within 20 s: ${(await lambdaSessions(true)).length}`);
      await delay(50);
    }
  }

  it('has a pool of one connection by default, and DB_POOL_MAX still sets it', () => {
    expect(lambdaConfig({ CONF_DIR: 'conf' }).db.poolMax).to.equal(1);
    expect(lambdaConfig({ CONF_DIR: 'conf', DB_POOL_MAX: '' }).db.poolMax, 'empty: unset').to.equal(1);
    expect(lambdaConfig({ CONF_DIR: 'conf', DB_POOL_MAX: '4' }).db.poolMax).to.equal(4);
    expect(loadConfig({ CONF_DIR: 'conf' }).db.poolMax, 'the server keeps its default').to.equal(10);
  });

  it('listens for SIGTERM while warm, and stops listening once closed (a test runner gets its signal back)', async () => {
    await close();
    const cold = process.listenerCount('SIGTERM');
    expect(await invoke()).to.equal(200);
    expect(process.listenerCount('SIGTERM'), 'while warm').to.equal(cold + 1);
    await close();
    expect(process.listenerCount('SIGTERM'), 'after close()').to.equal(cold);
    expect(await invoke(), 'warm again').to.equal(200);
  });

  it('reuses one database session across warm invocations', async () => {
    expect(await invoke()).to.equal(200);
    const first = await lambdaSessions();
    expect(first).to.have.length(1);
    expect(await invoke()).to.equal(200);
    expect(await invoke()).to.equal(200);
    expect(await lambdaSessions(), 'the same backend after three invocations').to.deep.equal(first);
  });

  it('serves concurrent invocations through its one connection by default', async () => {
    const answers = await withRefreshLogLocked(async () => {
      const pending = [invoke(), invoke(), invoke()];
      await waitForSessionsOnLock(1);
      // The other two wait for the pool's one connection, not for a session of their own.
      expect(await lambdaSessions()).to.have.length(1);
      return pending;
    });
    expect(await Promise.all(answers)).to.deep.equal([200, 200, 200]);
    expect(await lambdaSessions()).to.have.length(1);
  });

  it('opens up to DB_POOL_MAX connections when it is set', async () => {
    process.env.DB_POOL_MAX = '3';
    const answers = await withRefreshLogLocked(async () => {
      const pending = [invoke(), invoke(), invoke()];
      await waitForSessionsOnLock(3);
      return pending;
    });
    expect(await Promise.all(answers)).to.deep.equal([200, 200, 200]);
  });

  it('ends its session on SIGTERM, logging it once, and then ends as the signal asks', async () => {
    // Node itself with tsx's loader, not tsx's CLI: the CLI is a second process that relays signals
    // with handlers of its own, which made the instance's SIGTERM handling differ between Node 22 and 24.
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/lambda-instance.ts'], {
      cwd: path.join(import.meta.dirname, '../../..'),
      env: { ...process.env, LOG_LEVEL: 'info' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    // 'close', not 'exit': the instance's last lines may still be in the pipes when the process has exited.
    const exited = once(child, 'close');
    try {
      const invoked = async (n: number) => {
        const deadline = Date.now() + 60_000;
        while (out.split('\n').filter((l) => l.includes('"invoked"')).length < n) {
          if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no answer ${n}: ${out}`);
          await delay(50);
        }
      };
      child.stdin.write('1\n');
      await invoked(1);
      const sessions = await lambdaSessions();
      expect(sessions, out).to.have.length(1);
      child.stdin.write('2\n');
      await invoked(2);
      expect(await lambdaSessions(), 'a warm invocation reuses the session').to.deep.equal(sessions);
      expect(out).to.not.include('"statusCode":5');

      child.kill('SIGTERM');
      const [code, signal] = (await exited) as [number | null, string | null];
      // Ended by the signal (or 128 + 15, as a wrapper reports it).
      expect(signal === 'SIGTERM' || code === 143, `${code} ${signal} ${out}`).to.equal(true);
      expect(out.split('\n').filter((l) => l.includes('lambda instance shutting down')), out).to.have.length(1);
      expect(out).to.include('database pool ended');
      // pool.end() waits for the session's termination message to be sent; the server drops it at once.
      const deadline = Date.now() + 10_000;
      while ((await lambdaSessions()).length > 0) {
        if (Date.now() > deadline) throw new Error('the Lambda session outlived its instance');
        await delay(50);
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
