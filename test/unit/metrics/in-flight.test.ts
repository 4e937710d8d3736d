import { expect } from 'chai';
import { Registry } from 'prom-client';
import { InFlight } from '../../../src/core/in-flight.ts';
import { IN_FLIGHT_METRICS, watchInFlight } from '../../../src/metrics/api.ts';
import { Scrape } from '../../helpers/metrics.ts';

describe('the per-user in-flight bound in /metrics', () => {
  it('reports requests under way and waiting, the bounds, those that waited and those refused, as they are at the scrape', async () => {
    const registry = new Registry();
    const pending: (() => void)[] = [];
    const f = new InFlight({ perUser: 1, queuePerUser: 1 }, (run) => void pending.push(run));
    watchInFlight(registry, f);
    const first = f.enter('alice', () => {})!;
    f.enter('alice', () => {});
    f.enter('alice', () => {});
    f.enter('carol', () => {});
    let s = new Scrape(await registry.metrics());
    expect(s.value(IN_FLIGHT_METRICS.requests, { state: 'active' })).to.equal(2);
    expect(s.value(IN_FLIGHT_METRICS.requests, { state: 'waiting' })).to.equal(1);
    expect(s.value(IN_FLIGHT_METRICS.limit, { scope: 'active' })).to.equal(1);
    expect(s.value(IN_FLIGHT_METRICS.limit, { scope: 'waiting' })).to.equal(1);
    expect(s.value(IN_FLIGHT_METRICS.rejected)).to.equal(1);
    expect(s.value(IN_FLIGHT_METRICS.queued)).to.equal(0);
    first.release();
    s = new Scrape(await registry.metrics());
    expect(s.value(IN_FLIGHT_METRICS.requests, { state: 'waiting' })).to.equal(0);
    expect(s.value(IN_FLIGHT_METRICS.queued)).to.equal(1);
  });
});
