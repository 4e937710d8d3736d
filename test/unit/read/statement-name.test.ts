/**
 * A request shape's statement has one name (src/read/parts-statement.ts): every value is a
 * parameter, so two requests of one shape send the same text; and only the statement a shape runs
 * on every request (raw edges, the tail) is named.
 */
import { expect } from 'chai';
import { aggregationByCatalog } from '../../../src/declarations/aggregation-by-catalog.ts';
import { failedJobs } from '../../../src/declarations/failed-jobs.ts';
import { partsStatement } from '../../../src/read/parts-statement.ts';
import { planParts } from '../../../src/read/plan.ts';
import { coverageOf, type PartsRequest, type RollupSpec } from '../../../src/rollup/spec.ts';
import { DAY_MS, MINUTE_MS } from '../../../src/rollup/window.ts';

const FAILED = failedJobs.rollup;
const BY_CATALOG = aggregationByCatalog.rollup;
const NOW = Date.UTC(2026, 10, 20, 13, 37, 21, 123);
const TODAY = NOW - (NOW % DAY_MS);
const FINE_FROM = TODAY - 8 * DAY_MS;

const request = (start: number, end: number, more: Partial<PartsRequest> = {}): PartsRequest => ({
  window: { start, end },
  filters: {},
  groupDims: ['tenant_id'],
  access: { kind: 'all' },
  ...more,
});

/** The statement a request runs once its segments are cached: the raw edges and, in real time, the tail. */
function warm(spec: RollupSpec, req: PartsRequest, realtime?: { stableTo: number; pending?: number[] }) {
  const plan = planParts(spec, req, coverageOf(spec, FINE_FROM));
  const tail = realtime && { cached: { stableTo: realtime.stableTo - 10, pending: realtime.pending ?? [] }, stableTo: realtime.stableTo };
  return partsStatement(spec, plan, req, [], tail)!;
}

describe('the name of a request shape\'s statement', () => {
  it('is the same for windows, filter values, row scopes, stable ids and pending ids of one shape', () => {
    const filtered = (start: number, tenants: string[], patterns: string[], stableTo: number, pending: number[]) =>
      warm(FAILED, request(start, start + 7 * DAY_MS - 4321, { filters: { tenant_id: tenants }, access: { kind: 'constrained', constraints: { tenant_id: patterns } } }), { stableTo, pending });
    const a = filtered(NOW - 7 * DAY_MS + 12_345, ['t1'], ['t.*'], 1_000, []);
    const b = filtered(NOW - 7 * DAY_MS + 12_345 + 17 * MINUTE_MS + 3, ['t2', 't3', 'x'], ['a', 'b|c'], 2_000_000, [5, 6, 7]);
    expect(a.name).to.match(/^es_[0-9a-f]{24}$/);
    expect(b.text).to.equal(a.text);
    expect(b.name).to.equal(a.name);
    expect(b.values).to.not.deep.equal(a.values);
  });

  it('differs between shapes: grouping, filtered fields, real time', () => {
    const start = NOW - 7 * DAY_MS + 12_345;
    const end = NOW - 54_321;
    const names = new Set([
      warm(FAILED, request(start, end)).name,
      warm(FAILED, request(start, end, { groupDims: ['source_app'] })).name,
      warm(FAILED, request(start, end, { filters: { environment: ['prod'] } })).name,
      warm(FAILED, request(start, end), { stableTo: 100 }).name,
      warm(BY_CATALOG, request(start, end, { groupDims: ['catalog_id'] })).name,
    ]);
    expect(names.size).to.equal(5);
  });

  it('is absent from a statement that reads segments, or the base tables beyond the edges', () => {
    const req = request(NOW - 7 * DAY_MS + 12_345, NOW - 54_321);
    const plan = planParts(FAILED, req, coverageOf(FAILED, FINE_FROM));
    expect(plan.segments.length).to.be.greaterThan(0);
    expect(partsStatement(FAILED, plan, req, [0])!.name).to.equal(undefined);
    // aggregation_by_catalog keeps only days before its recent tier: hours of raw rows on each side.
    const old = request(NOW - 30 * DAY_MS + 5 * 3_600_000, NOW - 20 * DAY_MS - 5 * 3_600_000, { groupDims: ['catalog_id'] });
    expect(warm(BY_CATALOG, old).name).to.equal(undefined);
  });
});
