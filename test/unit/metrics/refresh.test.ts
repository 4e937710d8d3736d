import { expect } from 'chai';
import { Registry } from 'prom-client';
import type { ViewFreshness } from '../../../src/rollup/refresh-log.ts';
import { OUTCOMES, REFRESH_METRICS, refreshMetrics, type QueueCounts, type RefreshMetricsSources } from '../../../src/metrics/refresh.ts';
import { Scrape } from '../../helpers/metrics.ts';

const A = 'eventstats.mv_a';
const B = 'eventstats.mv_b';
const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);

function freshness(view: string, refreshedAgoMs: number | null, checkedAgoMs: number | null): ViewFreshness {
  return {
    view,
    version: refreshedAgoMs === null ? null : '1',
    refreshedAt: refreshedAgoMs === null ? null : new Date(NOW - refreshedAgoMs),
    sourceCheckedAt: checkedAgoMs === null ? null : new Date(NOW - checkedAgoMs),
    lastOutcome: null,
    lastError: null,
  };
}

interface Fake {
  registry: Registry;
  metrics: ReturnType<typeof refreshMetrics>;
  warnings: string[];
  reads: { freshness: number; queues: number };
  set(next: { state?: Map<string, ViewFreshness> | Error | undefined; queues?: QueueCounts[] | Error }): void;
  scrape(): Promise<Scrape>;
}

function fake(): Fake {
  const registry = new Registry();
  const warnings: string[] = [];
  const reads = { freshness: 0, queues: 0 };
  let state: Map<string, ViewFreshness> | Error | undefined = new Map();
  let queues: QueueCounts[] | Error = [];
  const sources: RefreshMetricsSources = {
    views: [A, B],
    log: { warn: (_o: unknown, msg?: string) => warnings.push(msg ?? '') },
    now: () => NOW,
    async freshness() {
      reads.freshness++;
      if (state instanceof Error) throw state;
      return state;
    },
    async queues() {
      reads.queues++;
      if (queues instanceof Error) throw queues;
      return queues;
    },
  };
  const metrics = refreshMetrics(registry, sources);
  return {
    registry,
    metrics,
    warnings,
    reads,
    set(next) {
      if ('state' in next) state = next.state;
      if (next.queues !== undefined) queues = next.queues;
    },
    scrape: async () => new Scrape(await registry.metrics()),
  };
}

describe('refresh metrics', () => {
  it('has a series at 0 for every view and outcome before any refresh, so that rate() sees the first one', async () => {
    const s = await fake().scrape();
    for (const view of [A, B]) {
      for (const outcome of OUTCOMES) expect(s.value(REFRESH_METRICS.refreshes, { view, outcome }), `${view} ${outcome}`).to.equal(0);
      expect(s.value(REFRESH_METRICS.rebuilds, { view })).to.equal(0);
    }
  });

  it('counts each outcome and times every attempt but a coalesced one, in seconds', async () => {
    const f = fake();
    f.metrics.observe({ view: A, outcome: 'refreshed', durationMs: 1500 });
    f.metrics.observe({ view: A, outcome: 'refreshed', durationMs: 500 });
    f.metrics.observe({ view: A, outcome: 'failed', durationMs: 20 });
    f.metrics.observe({ view: B, outcome: 'coalesced', durationMs: 0 });
    const s = await f.scrape();
    expect(s.value(REFRESH_METRICS.refreshes, { view: A, outcome: 'refreshed' })).to.equal(2);
    expect(s.value(REFRESH_METRICS.refreshes, { view: A, outcome: 'failed' })).to.equal(1);
    expect(s.value(REFRESH_METRICS.refreshes, { view: B, outcome: 'coalesced' })).to.equal(1);
    expect(s.value(REFRESH_METRICS.refreshes, { view: B, outcome: 'refreshed' })).to.equal(0);
    const refreshed = s.histogram(REFRESH_METRICS.duration, { view: A, outcome: 'refreshed' });
    expect(refreshed?.count).to.equal(2);
    expect(refreshed?.sum).to.equal(2);
    expect(refreshed?.buckets['1'], 'one of them within a second').to.equal(1);
    expect(s.count(REFRESH_METRICS.duration, { view: B, outcome: 'coalesced' })).to.equal(0);
  });

  it("observes an incremental cycle's sealed and late rows, and counts a rebuild instead", async () => {
    const f = fake();
    const base = { sealedFrom: 0, sealedTo: 60_000, idWatermark: 10, changedFrom: null };
    f.metrics.observe({ view: A, outcome: 'refreshed', durationMs: 5, report: { ...base, rebuild: false, sealedRows: 40, deltaRows: 3, recomputedDays: 2, deletedFacts: 5, orphans: 7 } });
    f.metrics.observe({ view: A, outcome: 'refreshed', durationMs: 5, report: { ...base, rebuild: true } });
    const s = await f.scrape();
    const sealed = s.histogram(REFRESH_METRICS.changedRows, { view: A, kind: 'sealed' });
    const late = s.histogram(REFRESH_METRICS.changedRows, { view: A, kind: 'late' });
    expect([sealed?.count, sealed?.sum, late?.count, late?.sum]).to.deep.equal([1, 40, 1, 3]);
    expect(sealed?.buckets['10'], '40 rows: above the bucket of 10').to.equal(0);
    expect(sealed?.buckets['100']).to.equal(1);
    expect(s.value(REFRESH_METRICS.rebuilds, { view: A })).to.equal(1);
    expect(s.value(REFRESH_METRICS.recomputedDays, { view: A })).to.equal(2);
    expect(s.value(REFRESH_METRICS.deletedFacts, { view: A })).to.equal(5);
    expect(s.value(REFRESH_METRICS.orphanJobs, { view: A })).to.equal(7);
  });

  it("shows the ids a cycle held back, the long writers it named and the oldest writer's age, as of the view's last refresh", async () => {
    const f = fake();
    const base = { sealedFrom: 0, sealedTo: 60_000, idWatermark: 10, changedFrom: null, rebuild: false };
    const held = { heldBack: 12, holders: 2, oldestHolderMs: 420_000, longWriters: [{ pid: 4242, ageMs: 420_000 }] };
    f.metrics.observe({ view: A, outcome: 'refreshed', durationMs: 5, report: { ...base, ...held } });
    let s = await f.scrape();
    expect([s.value(REFRESH_METRICS.heldBackJobs, { view: A }), s.value(REFRESH_METRICS.longWriters, { view: A }), s.value(REFRESH_METRICS.oldestWriter, { view: A })]).to.deep.equal([12, 1, 420]);
    f.metrics.observe({ view: A, outcome: 'refreshed', durationMs: 5, report: { ...base, heldBack: 0, holders: 0, oldestHolderMs: null, longWriters: [] } });
    s = await f.scrape();
    expect([s.value(REFRESH_METRICS.heldBackJobs, { view: A }), s.value(REFRESH_METRICS.longWriters, { view: A }), s.value(REFRESH_METRICS.oldestWriter, { view: A })]).to.deep.equal([0, 0, 0]);
  });

  it('computes the seconds since the last success and the last check at scrape time; +Inf for a view never refreshed', async () => {
    const f = fake();
    f.set({ state: new Map([[A, freshness(A, 90_000, 30_000)], [B, freshness(B, null, null)]]) });
    const s = await f.scrape();
    expect(s.value(REFRESH_METRICS.sinceSuccess, { view: A })).to.equal(90);
    expect(s.value(REFRESH_METRICS.sinceCheck, { view: A })).to.equal(30);
    expect(s.value(REFRESH_METRICS.sinceSuccess, { view: B })).to.equal(Infinity);
    expect(s.value(REFRESH_METRICS.sinceCheck, { view: B })).to.equal(Infinity);
    expect(f.reads.freshness, 'both gauges share one read of the refresh log').to.equal(1);
  });

  it("reports the refresh queues' jobs by state", async () => {
    const f = fake();
    f.set({ queues: [{ queue: 'refresh.a', counts: { ready: 1, deferred: 2, active: 3, failed: 4 } }] });
    const s = await f.scrape();
    expect(['ready', 'deferred', 'active', 'failed'].map((state) => s.value(REFRESH_METRICS.queueJobs, { queue: 'refresh.a', state }))).to.deep.equal([1, 2, 3, 4]);
  });

  it('leaves out only the gauges whose read failed, logs why, and still answers the rest of the scrape', async () => {
    const f = fake();
    f.metrics.observe({ view: A, outcome: 'refreshed', durationMs: 5 });
    f.set({ state: new Error('the database is unavailable'), queues: new Error('so are the queues') });
    const s = await f.scrape();
    expect(s.family(REFRESH_METRICS.sinceSuccess).metrics).to.deep.equal([]);
    expect(s.family(REFRESH_METRICS.queueJobs).metrics).to.deep.equal([]);
    expect(s.value(REFRESH_METRICS.refreshes, { view: A, outcome: 'refreshed' })).to.equal(1);
    expect(f.warnings.some((w) => w.includes(REFRESH_METRICS.sinceSuccess))).to.equal(true);
    expect(f.warnings.some((w) => w.includes(REFRESH_METRICS.queueJobs))).to.equal(true);
  });

  it('reports no age and no queue while there is nothing to ask (a stopped worker)', async () => {
    const f = fake();
    f.set({ state: undefined });
    const s = await f.scrape();
    expect(s.family(REFRESH_METRICS.sinceSuccess).metrics).to.deep.equal([]);
    expect(s.family(REFRESH_METRICS.queueJobs).metrics).to.deep.equal([]);
  });
});
