import { expect } from 'chai';
import { Counter, Gauge, Registry } from 'prom-client';
import { startMetricsServer, type MetricsServer } from '../../../src/http/metrics-server.ts';
import { Scrape } from '../../helpers/metrics.ts';

const TIMEOUTS = { headersTimeoutMs: 2_000, requestTimeoutMs: 5_000, keepAliveTimeoutMs: 1_000 };

describe('the metrics server (METRICS_PORT, WORKER_METRICS_PORT)', () => {
  let registry: Registry;
  let server: MetricsServer;
  let base: string;
  const errors: string[] = [];
  let failing = false;

  before(async () => {
    registry = new Registry();
    new Counter({ name: 'test_things_total', help: 'Things.', registers: [registry] }).inc(3);
    new Gauge({
      name: 'test_fragile',
      help: 'A gauge whose collection can fail.',
      registers: [registry],
      collect() {
        if (failing) throw new Error('collection failed');
        this.set(1);
      },
    });
    server = await startMetricsServer(registry, { port: 0, timeouts: TIMEOUTS, log: { error: (_o: unknown, msg?: string) => errors.push(msg ?? '') } });
    base = `http://127.0.0.1:${server.port}`;
  });
  after(async () => server?.stop());

  it('answers GET /metrics with the registry in its own content type, parseable as the Prometheus text format', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal(registry.contentType);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    expect(new Scrape(await res.text()).value('test_things_total')).to.equal(3);
  });

  it('answers 404 in the envelope to any other path or method', async () => {
    for (const [method, path] of [['GET', '/'], ['GET', '/metrics/x'], ['POST', '/metrics'], ['GET', '/health']] as const) {
      const res = await fetch(`${base}${path}`, { method });
      expect(res.status, `${method} ${path}`).to.equal(404);
      const body = (await res.json()) as { success: boolean; errors: { type: string }[] };
      expect(body.success).to.equal(false);
      expect(body.errors[0]?.type).to.equal('route');
    }
  });

  it('answers 500 without the error text when a collection fails, and logs it', async () => {
    failing = true;
    try {
      const res = await fetch(`${base}/metrics`);
      expect(res.status).to.equal(500);
      expect(await res.text()).not.to.include('collection failed');
      expect(errors).to.have.length(1);
    } finally {
      failing = false;
    }
  });

  it('fails to start on a port already taken', async () => {
    let err: unknown;
    try {
      const second = await startMetricsServer(registry, { port: server.port, timeouts: TIMEOUTS, log: { error: () => {} } });
      await second.stop();
    } catch (e) {
      err = e;
    }
    expect((err as NodeJS.ErrnoException | undefined)?.code).to.equal('EADDRINUSE');
  });

  it('stops listening on stop()', async () => {
    const own = await startMetricsServer(registry, { port: 0, timeouts: TIMEOUTS, log: { error: () => {} } });
    expect((await fetch(`http://127.0.0.1:${own.port}/metrics`)).status).to.equal(200);
    await own.stop();
    let refused = false;
    try {
      await fetch(`http://127.0.0.1:${own.port}/metrics`);
    } catch {
      refused = true;
    }
    expect(refused).to.equal(true);
  });
});
