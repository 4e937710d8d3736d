import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createMetricsRegistry, POOL_METRICS, scrapeRead, watchPool, type PoolCounts } from '../../../src/metrics/registry.ts';
import { Scrape } from '../../helpers/metrics.ts';

describe('metrics registry helpers', () => {
  it('makes registries of their own, each with the process defaults', async () => {
    const a = createMetricsRegistry();
    const b = createMetricsRegistry();
    expect(a).not.to.equal(b);
    const s = new Scrape(await a.metrics());
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(s.families.has(name), name).to.equal(true);
    }
  });

  it("reports each watched pool's counts as they are at the scrape, labelled by pool", async () => {
    const registry = new Registry();
    const api: { -readonly [K in keyof PoolCounts]: PoolCounts[K] } = { totalCount: 3, idleCount: 1, waitingCount: 0, options: { max: 10 } };
    let refresh: PoolCounts | undefined = undefined;
    watchPool(registry, 'api', () => api);
    watchPool(registry, 'refresh', () => refresh);
    let s = new Scrape(await registry.metrics());
    expect(s.value(POOL_METRICS.connections, { pool: 'api' })).to.equal(3);
    expect(s.value(POOL_METRICS.idle, { pool: 'api' })).to.equal(1);
    expect(s.value(POOL_METRICS.waiting, { pool: 'api' })).to.equal(0);
    expect(s.value(POOL_METRICS.max, { pool: 'api' })).to.equal(10);
    expect(s.sample(POOL_METRICS.connections, { pool: 'refresh' }), 'no series while there is no pool').to.equal(undefined);

    api.totalCount = 10;
    api.waitingCount = 4;
    refresh = { totalCount: 2, idleCount: 2, waitingCount: 0, options: { max: 6 } };
    s = new Scrape(await registry.metrics());
    expect(s.value(POOL_METRICS.connections, { pool: 'api' })).to.equal(10);
    expect(s.value(POOL_METRICS.waiting, { pool: 'api' })).to.equal(4);
    expect(s.value(POOL_METRICS.max, { pool: 'refresh' })).to.equal(6);
  });

  describe('scrapeRead', () => {
    it('shares one read between the gauges of a scrape, and reads again later', async () => {
      let calls = 0;
      const read = scrapeRead(async () => ++calls, 1_000, 50);
      expect(await Promise.all([read(), read()])).to.deep.equal([1, 1]);
      await new Promise((r) => setTimeout(r, 60));
      expect(await read()).to.equal(2);
    });

    it('fails a read slower than its limit', async () => {
      const read = scrapeRead(() => new Promise<number>((r) => setTimeout(() => r(1), 200)), 20);
      let err: unknown;
      await read().catch((e: unknown) => (err = e));
      expect((err as Error).message).to.match(/no answer within 20 ms/);
    });
  });
});
