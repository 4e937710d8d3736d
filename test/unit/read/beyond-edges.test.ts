import { expect } from 'chai';
import { aggregationByCatalog } from '../../../src/declarations/aggregation-by-catalog.ts';
import { failedJobs } from '../../../src/declarations/failed-jobs.ts';

const BY_CATALOG = aggregationByCatalog.rollup;
const FAILED = failedJobs.rollup;
import { coverageOf, type PartsRequest, type RollupSpec } from '../../../src/rollup/spec.ts';
import { planParts, readsBeyondEdges } from '../../../src/read/plan.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../../src/rollup/window.ts';

const NOW = Date.UTC(2026, 10, 20, 13, 37, 21, 123);
const TODAY = NOW - (NOW % DAY_MS);
const FINE_FROM = TODAY - 8 * DAY_MS;
const request = (start: number, end: number, groupDims: PartsRequest['groupDims'] = ['tenant_id']): PartsRequest => ({
  window: { start, end },
  filters: {},
  groupDims,
  access: { kind: 'all' },
});
const beyond = (spec: RollupSpec, req: PartsRequest) => readsBeyondEdges(planParts(spec, req, coverageOf(spec, FINE_FROM)));

describe('which reads count as reading the base tables beyond the edges', () => {
  it('not a rolling window whose minutes are kept: its edges are under a minute', () => {
    expect(beyond(FAILED, request(NOW - 7 * DAY_MS, NOW))).to.equal(false);
    expect(beyond(BY_CATALOG, request(NOW - 7 * DAY_MS, NOW, ['catalog_id']))).to.equal(false);
  });

  it('not a window before the recent tier of a level that keeps its hours: edges under an hour', () => {
    expect(beyond(FAILED, request(NOW - 30 * DAY_MS + 17 * MINUTE_MS, NOW - 20 * DAY_MS - 5 * MINUTE_MS))).to.equal(false);
  });

  it('a window before the recent tier of a level that keeps only its days: hours of raw rows on each side', () => {
    expect(beyond(BY_CATALOG, request(NOW - 30 * DAY_MS + 5 * HOUR_MS, NOW - 20 * DAY_MS - 5 * HOUR_MS, ['catalog_id']))).to.equal(true);
  });

  it('a window shorter than an hour read raw whole is not, one of an hour is', () => {
    const old = TODAY - 20 * DAY_MS + 90 * MINUTE_MS;
    expect(beyond(BY_CATALOG, request(old, old + HOUR_MS - 2, ['catalog_id']))).to.equal(false);
    expect(beyond(BY_CATALOG, request(old, old + HOUR_MS - 1, ['catalog_id']))).to.equal(true);
  });
});
