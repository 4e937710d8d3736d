import { expect } from 'chai';
import fc from 'fast-check';
import { DAY_MS, GRAIN_MS, HOUR_MS, planWindow, resolveWindow, type Grain } from '../../../src/rollup/window.ts';

const NOW = Date.UTC(2026, 10, 20, 13, 37, 21, 123);

describe('resolveWindow', () => {
  it('defaults to the last 7 days up to now', () => {
    expect(resolveWindow({}, NOW)).to.deep.equal({ start: NOW - 7 * DAY_MS, end: NOW, relative: true });
  });
  it('turns days into a window ending now', () => {
    expect(resolveWindow({ days: 30 }, NOW)).to.deep.equal({ start: NOW - 30 * DAY_MS, end: NOW, relative: true });
  });
  it('ends an open window at now and starts a start-less one 7 days before its end', () => {
    expect(resolveWindow({ timestamp_start: NOW - 3 * DAY_MS }, NOW)).to.deep.equal({ start: NOW - 3 * DAY_MS, end: NOW, relative: true });
    expect(resolveWindow({ timestamp_end: NOW - DAY_MS }, NOW)).to.deep.equal({ start: NOW - 8 * DAY_MS, end: NOW - DAY_MS });
  });
  it('rejects a start after the end, an over-long window, and days mixed with timestamps', () => {
    expect(resolveWindow({ timestamp_start: 10, timestamp_end: 9 }, NOW)).to.have.property('error').that.matches(/must not be after/);
    expect(resolveWindow({ timestamp_start: 0, timestamp_end: 367 * DAY_MS }, NOW)).to.have.property('error').that.matches(/366 days/);
    expect(resolveWindow({ days: 3, timestamp_end: NOW }, NOW)).to.have.property('error').that.matches(/cannot be combined/);
  });
  it('accepts a window of exactly 366 days and a single millisecond', () => {
    expect(resolveWindow({ timestamp_start: 0, timestamp_end: 366 * DAY_MS }, NOW)).not.to.have.property('error');
    expect(resolveWindow({ timestamp_start: 7, timestamp_end: 7 }, NOW)).to.deep.equal({ start: 7, end: 7 });
  });
});

describe('planWindow', () => {
  const grainSets: Grain[][] = [[], ['day'], ['hour'], ['minute'], ['day', 'hour'], ['hour', 'minute'], ['day', 'hour', 'minute']];

  it('covers every millisecond of the window exactly once, with whole aligned buckets', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -40 * DAY_MS, max: 40 * DAY_MS }),
        fc.oneof(fc.integer({ min: 0, max: 5 * HOUR_MS }), fc.integer({ min: 0, max: 20 * DAY_MS })),
        fc.constantFrom(...grainSets),
        (start, length, grains) => {
          const end = start + length;
          const plan = planWindow({ start, end }, grains);
          const pieces = [
            ...plan.buckets.map((b) => {
              const g = GRAIN_MS[b.grain];
              expect(grains).to.include(b.grain);
              expect(((b.range.from % g) + g) % g, 'aligned start').to.equal(0);
              expect(((b.range.to % g) + g) % g, 'aligned end').to.equal(0);
              return b.range;
            }),
            ...plan.raw,
          ].sort((a, b) => a.from - b.from);
          expect(pieces[0]!.from).to.equal(start);
          expect(pieces.at(-1)!.to).to.equal(end + 1);
          for (let i = 1; i < pieces.length; i++) expect(pieces[i]!.from, 'contiguous, no overlap').to.equal(pieces[i - 1]!.to);
          for (const p of pieces) expect(p.to).to.be.greaterThan(p.from);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('uses the grains of a recent tier only from where the tier starts, and still covers everything once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -40 * DAY_MS, max: 40 * DAY_MS }),
        fc.oneof(fc.integer({ min: 0, max: 5 * HOUR_MS }), fc.integer({ min: 0, max: 20 * DAY_MS })),
        fc.integer({ min: -45, max: 45 }),
        fc.constantFrom<('hour' | 'minute')[]>(['minute'], ['hour', 'minute']),
        (start, length, tierDay, recent) => {
          const end = start + length;
          const from = tierDay * DAY_MS;
          const grains = (['day', 'hour', 'minute'] as const).map((grain) => (recent.includes(grain as never) ? { grain, from } : grain));
          const plan = planWindow({ start, end }, grains);
          for (const b of plan.buckets) if (recent.includes(b.grain as never)) expect(b.range.from).to.be.at.least(from);
          const pieces = [...plan.buckets.map((b) => b.range), ...plan.raw].sort((a, b) => a.from - b.from);
          expect(pieces[0]!.from).to.equal(start);
          expect(pieces.at(-1)!.to).to.equal(end + 1);
          for (let i = 1; i < pieces.length; i++) expect(pieces[i]!.from, 'contiguous, no overlap').to.equal(pieces[i - 1]!.to);
          // Inside the tier, raw time is under a minute at each edge.
          if (start >= from) expect(plan.raw.reduce((n, r) => n + r.to - r.from, 0)).to.be.below(2 * 60_000);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('leaves less than one finest bucket of raw time at each edge', () => {
    const start = Date.UTC(2026, 0, 1, 5, 17, 3, 9);
    const end = start + 9 * DAY_MS + 3 * HOUR_MS;
    const plan = planWindow({ start, end }, ['day', 'hour']);
    expect(plan.buckets.map((b) => b.grain)).to.deep.equal(['hour', 'day', 'hour']);
    const rawTotal = plan.raw.reduce((n, r) => n + r.to - r.from, 0);
    expect(rawTotal).to.be.lessThan(2 * HOUR_MS);
  });

  it('answers a window shorter than any bucket from raw rows only', () => {
    expect(planWindow({ start: 10, end: 20 }, ['day', 'hour'])).to.deep.equal({ buckets: [], raw: [{ from: 10, to: 21 }] });
  });
});
