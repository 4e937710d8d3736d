/**
 * What every answer carries and what its log line keeps (issue 26): X-Content-Type-Options: nosniff
 * on every answer, errors and 404s included; and a GET's log line without its query string, which
 * holds tenant and filter values.
 */
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import request from 'supertest';
import type { Executor } from '../../../src/db/executor.ts';
import { createApiMetrics } from '../../../src/metrics/api.ts';
import { startMetricsServer } from '../../../src/http/metrics-server.ts';
import { PartsCache } from '../../../src/read/parts-cache.ts';
import { httpHarness, RUNS_TOPIC } from '../../helpers/http.ts';

const noDatabase: Executor = { query: () => Promise.reject(new Error('the database is away')) };

describe('every answer', () => {
  it('carries X-Content-Type-Options: nosniff: a 200, a 401, a 400, a 404, a 503 and /metrics', async () => {
    const registry = createApiMetrics({ pool: { totalCount: 0, idleCount: 0, waitingCount: 0, options: { max: 1 } } as never, parts: new PartsCache({ stateTtlMs: 0 }) });
    const h = await httpHarness(noDatabase, { metrics: { registry, serve: true } });
    try {
      const answers = [
        await request(h.app).get('/api'),
        await request(h.app).post(`/stats/${RUNS_TOPIC}/query/failed_jobs`),
        await request(h.app).post(`/stats/${RUNS_TOPIC}/query/failed_jobs`).set('Authorization', h.bearer('alice')).send({ days: 0 }),
        await request(h.app).get('/no/such/route'),
        await request(h.app).get('/health'),
        await request(h.app).get('/metrics'),
      ];
      expect(answers.map((a) => a.status)).to.deep.equal([200, 401, 400, 404, 503, 200]);
      for (const a of answers) expect(a.headers['x-content-type-options'], `${a.status}`).to.equal('nosniff');
    } finally {
      await h.close();
    }
  });

  it("carries it on METRICS_PORT's server too, for /metrics and for anything else", async () => {
    const registry = createApiMetrics({ pool: { totalCount: 0, idleCount: 0, waitingCount: 0, options: { max: 1 } } as never, parts: new PartsCache({ stateTtlMs: 0 }) });
    const server = await startMetricsServer(registry, { port: 0, timeouts: { headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 1_000 }, log: pino({ level: 'silent' }) });
    try {
      for (const path of ['/metrics', '/elsewhere']) {
        const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
        expect(res.headers.get('x-content-type-options'), path).to.equal('nosniff');
      }
    } finally {
      await server.stop();
    }
  });
});

describe("a GET's log line", () => {
  it('has its path and not its query string: no tenant or filter value reaches the log', async () => {
    const lines: string[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const h = await httpHarness(noDatabase, { log });
    try {
      const path = `/stats/${RUNS_TOPIC}/query/no_such_query`;
      await request(h.app).get(`${path}?tenant_id=tenant-secret-42&source_app=app-secret-7`).set('Authorization', h.bearer('alice')).expect(400);
      const access = lines.map((l) => JSON.parse(l) as { req?: { url?: string; query?: unknown } }).filter((l) => l.req !== undefined);
      expect(access).to.have.length(1);
      expect(access[0]!.req!.url).to.equal(path);
      expect(access[0]!.req).not.to.have.property('query');
      expect(lines.join('\n')).not.to.match(/secret-42|secret-7/);
    } finally {
      await h.close();
    }
  });
});
