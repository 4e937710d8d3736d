/**
 * Memory bounded by construction (issue 26): one user sending many requests with random long filter
 * values keeps the parts cache's byte gauge within PARTS_CACHE_MAX_BYTES and their own entries
 * within PARTS_CACHE_USER_MAX_BYTES, and the entries every user reads stay cached meanwhile.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Registry } from 'prom-client';
import request from 'supertest';
import { createApiMetrics, PARTS_CACHE_METRICS } from '../../../src/metrics/api.ts';
import { PartsCache } from '../../../src/read/parts-cache.ts';
import { seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { httpHarness, RUNS_TOPIC, type HttpHarness } from '../../helpers/http.ts';
import { Scrape } from '../../helpers/metrics.ts';

const FAILED_JOBS = `/stats/${RUNS_TOPIC}/query/failed_jobs`;
const MAX_BYTES = 256 * 1024;
const USER_MAX_BYTES = 32 * 1024;

describe('The parts cache under random filter values', function () {
  this.timeout(180_000);
  let s: SeededDatabase;
  let h: HttpHarness;
  let registry: Registry;

  const scrape = async () => new Scrape(await registry.metrics());
  const post = (user: string, body: object) => request(h.app).post(FAILED_JOBS).set('Authorization', h.bearer(user)).send(body);
  const randomApps = () => Array.from({ length: 100 }, () => randomBytes(120).toString('hex'));

  before(async () => {
    s = await seededDatabase({ runs: 2_000, days: 30 });
    const parts = new PartsCache({ stateTtlMs: 60_000, maxBytes: MAX_BYTES, userMaxBytes: USER_MAX_BYTES });
    registry = createApiMetrics({ pool: s.reader, parts });
    h = await httpHarness(s.executor, { parts, metrics: { registry, serve: false } });
  });
  after(async () => {
    await h?.close();
    await s?.close();
  });

  it("stays within its byte bound and the user's share through 300 requests of 100 random 240-character source_app values, and keeps serving the unfiltered window from the cache", async () => {
    const shared = { days: 30 };
    await post('alice', shared).expect(200);
    await post('alice', shared).expect(200);
    const warm = await scrape();
    const window = { kind: 'window' };
    let maxBytes = 0;
    let maxOwned = 0;
    for (let batch = 0; batch < 30; batch++) {
      const answers = await Promise.all(Array.from({ length: 10 }, () => post('alice', { days: 30, source_app: randomApps() })));
      for (const a of answers) expect(a.status).to.equal(200);
      const now = await scrape();
      maxBytes = Math.max(maxBytes, now.value(PARTS_CACHE_METRICS.bytes));
      maxOwned = Math.max(maxOwned, now.value(PARTS_CACHE_METRICS.ownedBytes));
    }
    expect(maxBytes).to.be.at.most(MAX_BYTES);
    expect(maxOwned, "alice's filtered entries").to.be.greaterThan(0).and.at.most(USER_MAX_BYTES);
    const before = await scrape();
    await post('alice', shared).expect(200);
    const after = await scrape();
    expect(after.value(PARTS_CACHE_METRICS.hits, window) - before.value(PARTS_CACHE_METRICS.hits, window), 'the unfiltered window is still cached').to.equal(1);
    expect(warm.value(PARTS_CACHE_METRICS.maxBytes)).to.equal(MAX_BYTES);
  });
});
