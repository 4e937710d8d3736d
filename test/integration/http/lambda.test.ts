/**
 * The Lambda entry: configured from the environment on its first call, it must answer API Gateway
 * REST (v1) and HTTP API (v2) events exactly as the same app answers supertest.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Express } from 'express';
import { pino } from 'pino';
import request from 'supertest';
import { createApp } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { DAY_MS } from '../../../src/queries/window.ts';
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
    const runtime = await createApiRuntime(loadConfig(), s.db.url, pino({ level: 'silent' }));
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
        expect(actual.headers.etag).to.match(/^"/);
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
