/** A fixed window's plan kept per view state (src/read/plan.ts plannedParts): the plan planParts makes, made once. */
import { expect } from 'chai';
import { aggregationByCatalog } from '../../../src/declarations/aggregation-by-catalog.ts';
import { coverageOf, type PartsRequest } from '../../../src/rollup/spec.ts';
import { plannedParts, planParts } from '../../../src/read/plan.ts';
import { DAY_MS, MINUTE_MS } from '../../../src/rollup/window.ts';

const SPEC = aggregationByCatalog.rollup;
const NOW = Date.UTC(2026, 10, 20, 13, 37, 21, 123);
const TODAY = NOW - (NOW % DAY_MS);
const request = (start: number, end: number, relative = false): PartsRequest => ({
  window: relative ? { start, end, relative } : { start, end },
  filters: {},
  groupDims: ['catalog_id'],
  access: { kind: 'all' },
});

describe('the plan of a fixed window, kept per view state', () => {
  it('is the plan planParts makes, made once for the same window and view state', () => {
    const coverage = coverageOf(SPEC, TODAY - 8 * DAY_MS);
    const req = request(NOW - 7 * DAY_MS, NOW);
    const first = plannedParts(SPEC, req, coverage);
    expect(first).to.deep.equal(planParts(SPEC, req, coverage));
    expect(plannedParts(SPEC, request(NOW - 7 * DAY_MS, NOW), coverage), 'polled again').to.equal(first);
    const later = request(NOW - 7 * DAY_MS + MINUTE_MS, NOW + MINUTE_MS);
    const moved = plannedParts(SPEC, later, coverage);
    expect(moved).to.deep.equal(planParts(SPEC, later, coverage));
    expect(moved).to.not.deep.equal(first);
    // The same start, a later end: its own plan.
    const longer = request(NOW - 7 * DAY_MS, NOW + 5 * MINUTE_MS);
    expect(plannedParts(SPEC, longer, coverage)).to.deep.equal(planParts(SPEC, longer, coverage)).and.to.have.property('raw').that.not.deep.equals(first.raw);
  });

  it('is made again under another view state, whose recent tier may start elsewhere', () => {
    const req = request(NOW - 7 * DAY_MS, NOW);
    const before = plannedParts(SPEC, req, coverageOf(SPEC, TODAY - 8 * DAY_MS));
    // The recent tier starting today: the window's days before it come from day buckets, its edges from hours or raw.
    const narrower = coverageOf(SPEC, TODAY);
    const after = plannedParts(SPEC, req, narrower);
    expect(after).to.deep.equal(planParts(SPEC, req, narrower));
    expect(after).to.not.deep.equal(before);
  });

  it('is made on every request for a window ending at now', () => {
    const coverage = coverageOf(SPEC, TODAY - 8 * DAY_MS);
    const req = request(NOW - 7 * DAY_MS, NOW, true);
    const first = plannedParts(SPEC, req, coverage);
    const again = plannedParts(SPEC, request(NOW - 7 * DAY_MS, NOW, true), coverage);
    expect(again).to.deep.equal(first);
    expect(again).to.not.equal(first);
  });
});
