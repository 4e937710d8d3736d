/**
 * GET /metrics on the API app, scraped and parsed as Prometheus would: the request histogram counts
 * the requests made with the right labels, the parts cache's hits and misses move, the pool's gauges
 * follow its connections, and the app without metrics (METRICS=off), or with them on a port of their
 * own (METRICS_PORT), answers 404.
 */
import { expect } from 'chai';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import request from 'supertest';
import { createApiMetrics, PARTS_CACHE_METRICS } from '../../../src/metrics/api.ts';
import { POOL_METRICS } from '../../../src/metrics/registry.ts';
import { REQUEST_DURATION } from '../../../src/metrics/requests.ts';
import { PartsCache } from '../../../src/read/parts-cache.ts';
import { seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { httpHarness, RUNS_TOPIC, type HttpHarness } from '../../helpers/http.ts';
import { Scrape } from '../../helpers/metrics.ts';

const QUERY_ROUTE = '/stats/:topic_name/query/:query_name';
const FAILED_JOBS = `/stats/${RUNS_TOPIC}/query/failed_jobs`;
const TREND = `/stats/${RUNS_TOPIC}/query/job_status_trend`;

describe('GET /metrics on the API', function () {
  this.timeout(120_000);
  let s: SeededDatabase;
  let h: HttpHarness;
  let registry: Registry;

  const scrape = async () => {
    const res = await request(h.app).get('/metrics').expect(200);
    return new Scrape(res.text);
  };
  const post = (path: string, body: object = {}) => request(h.app).post(path).set('Authorization', h.bearer('alice')).send(body);

  before(async () => {
    s = await seededDatabase({ runs: 2_000, days: 30 });
    const parts = new PartsCache({ stateTtlMs: 1_000 });
    registry = createApiMetrics({ pool: s.reader, parts });
    h = await httpHarness(s.executor, { parts, metrics: { registry, serve: true } });
  });
  after(async () => {
    await h?.close();
    await s?.close();
  });

  it('answers without a token, in the content type of the registry, with the process defaults', async () => {
    const res = await request(h.app).get('/metrics').expect(200);
    expect(res.headers['content-type']).to.equal(registry.contentType);
    const families = new Scrape(res.text).families;
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(families.has(name), name).to.equal(true);
    }
  });

  it('counts every request in the duration histogram by route pattern, compiled query and status', async () => {
    const labels = {
      ok: { method: 'POST', route: QUERY_ROUTE, query: 'job_status_trend', status: '200' },
      invalid: { method: 'POST', route: QUERY_ROUTE, query: 'job_status_trend', status: '400' },
      unknownQuery: { method: 'POST', route: QUERY_ROUTE, query: '', status: '400' },
      noToken: { method: 'POST', route: '/stats/:topic_name', query: 'job_status_trend', status: '401' },
      health: { method: 'GET', route: '/health', query: '', status: '200' },
      noRoute: { method: 'GET', route: '', query: '', status: '404' },
    };
    const before = await scrape();
    await post(TREND, { days: 3 }).expect(200);
    await post(TREND, { days: 4 }).expect(200);
    await post(TREND, { days: 'many' }).expect(400);
    await post(`/stats/${RUNS_TOPIC}/query/no_such_query`).expect(400);
    await request(h.app).post(TREND).send({}).expect(401);
    await request(h.app).get('/health').expect(200);
    await request(h.app).get('/no/such/path/4711').expect(404);
    const after = await scrape();
    const moved = Object.fromEntries(Object.entries(labels).map(([k, l]) => [k, after.count(REQUEST_DURATION, l) - before.count(REQUEST_DURATION, l)]));
    expect(moved).to.deep.equal({ ok: 2, invalid: 1, unknownQuery: 1, noToken: 1, health: 1, noRoute: 1 });
    const ok = after.histogram(REQUEST_DURATION, labels.ok);
    expect(ok?.sum, 'seconds, not milliseconds').to.be.greaterThan(0).and.lessThan(30);
  });

  it('does not time its own scrapes, nor put a URL in a label', async () => {
    await scrape();
    const after = await scrape();
    const values = after.labelSets(REQUEST_DURATION).flatMap((l) => Object.values(l));
    expect(values).not.to.include('/metrics');
    expect(values.some((v) => v.includes(RUNS_TOPIC) || v.includes('4711'))).to.equal(false);
  });

  it("moves the parts cache's misses on a first read and its hits when the same window is read again", async () => {
    const window = { kind: 'window' };
    const before = await scrape();
    await post(FAILED_JOBS, { days: 5, tenant_id: 'tenant-02' }).expect(200);
    const first = await scrape();
    expect(first.value(PARTS_CACHE_METRICS.misses, window) - before.value(PARTS_CACHE_METRICS.misses, window)).to.equal(1);
    expect(first.value(PARTS_CACHE_METRICS.misses, { kind: 'segment' })).to.be.greaterThan(before.value(PARTS_CACHE_METRICS.misses, { kind: 'segment' }));
    expect(first.value(PARTS_CACHE_METRICS.hits, window)).to.equal(before.value(PARTS_CACHE_METRICS.hits, window));
    expect(first.value(PARTS_CACHE_METRICS.bytes)).to.be.greaterThan(before.value(PARTS_CACHE_METRICS.bytes));
    await post(FAILED_JOBS, { days: 5, tenant_id: 'tenant-02' }).expect(200);
    const second = await scrape();
    expect(second.value(PARTS_CACHE_METRICS.hits, window) - first.value(PARTS_CACHE_METRICS.hits, window)).to.equal(1);
    expect(second.value(PARTS_CACHE_METRICS.misses, window)).to.equal(first.value(PARTS_CACHE_METRICS.misses, window));
    expect(second.value(PARTS_CACHE_METRICS.evictions)).to.equal(0);
  });

  it("reports the API pool's connections, idle ones, its bound, and the queries waiting for a connection", async () => {
    const pool = s.reader;
    const max = pool.options.max!;
    const held: pg.PoolClient[] = [];
    for (let i = 0; i < max; i++) held.push(await pool.connect());
    const waiting = pool.query('SELECT 1');
    try {
      const busy = await scrape();
      const api = { pool: 'api' };
      expect(busy.value(POOL_METRICS.connections, api)).to.equal(max);
      expect(busy.value(POOL_METRICS.idle, api)).to.equal(0);
      expect(busy.value(POOL_METRICS.waiting, api)).to.equal(1);
      expect(busy.value(POOL_METRICS.max, api)).to.equal(max);
    } finally {
      for (const c of held) c.release();
      await waiting;
    }
    const idle = await scrape();
    expect(idle.value(POOL_METRICS.waiting, { pool: 'api' })).to.equal(0);
    expect(idle.value(POOL_METRICS.idle, { pool: 'api' })).to.equal(idle.value(POOL_METRICS.connections, { pool: 'api' }));
  });

  it('is a 404 like any unknown route when the app has no metrics (METRICS=off), and when they are served on METRICS_PORT', async () => {
    const parts = new PartsCache();
    for (const metrics of [undefined, { registry: createApiMetrics({ pool: s.reader, parts }), serve: false }]) {
      const other = await httpHarness(s.executor, { parts, metrics });
      try {
        const res = await request(other.app).get('/metrics').expect(404);
        expect(res.body.errors[0].type).to.equal('route');
      } finally {
        await other.close();
      }
    }
  });
});
