/** The page of a ranked answer: the cached order of a window, with the groups its raw edges changed placed into it. */
import { expect } from 'chai';
import type { MergedWindow } from '../../../src/read/merge.ts';
import { compareValues } from '../../../src/declarations/order.ts';
import { pageOf } from '../../../src/read/ranking.ts';
import type { PartRow } from '../../../src/rollup/spec.ts';

describe('ranking a merged window with the groups its raw edges changed', () => {
  const row = (g: string, n: number) => ({ g, n });
  const groups = new Map([
    ['a', row('a', 5)],
    ['b', row('b', 3)],
    ['c', row('c', 1)],
    ['z', row('z', 0)],
  ]);
  const rank = (limit: number) => ({ keep: (r: PartRow) => (r.n as number) > 0, compare: (x: PartRow, y: PartRow) => (y.n as number) - (x.n as number) || compareValues(x.g, y.g), limit });

  it('places changed and new groups in order, once each, and counts what was left out', () => {
    const changed = new Map([
      ['c', row('c', 10)],
      ['d', row('d', 3)],
    ]);
    expect(pageOf({ groups }, changed, rank(4))).to.deep.equal({ rows: [row('c', 10), row('a', 5), row('b', 3), row('d', 3)], truncated: false });
    expect(pageOf({ groups }, changed, rank(3))).to.deep.equal({ rows: [row('c', 10), row('a', 5), row('b', 3)], truncated: true });
    // A group the edges take out of the answer (kept no more) and one they bring in.
    const out = new Map([['a', row('a', 0)], ['z', row('z', 2)]]);
    expect(pageOf({ groups }, out, rank(3))).to.deep.equal({ rows: [row('b', 3), row('z', 2), row('c', 1)], truncated: false });
  });

  it('answers from the cached order when nothing changed', () => {
    const window: MergedWindow = { groups };
    expect(pageOf(window, new Map(), rank(2))).to.deep.equal({ rows: [row('a', 5), row('b', 3)], truncated: true });
    expect(window.ranked?.map(([k]) => k)).to.deep.equal(['a', 'b', 'c']);
  });

  it('keeps the page of a kept map per window and limit, and makes it again for another window or limit', () => {
    const changed = new Map([['c', row('c', 10)]]);
    const window: MergedWindow = { groups };
    const first = pageOf(window, changed, rank(2), true);
    expect(first).to.deep.equal({ rows: [row('c', 10), row('a', 5)], truncated: true });
    expect(pageOf(window, changed, rank(2), true), 'the same window and limit: the page kept').to.equal(first);
    expect(pageOf(window, changed, rank(3), true)).to.deep.equal({ rows: [row('c', 10), row('a', 5), row('b', 3)], truncated: false });
    // The window merged again (a cycle, a minute boundary) with other groups: its own page.
    const other: MergedWindow = { groups: new Map([['b', row('b', 20)], ['c', row('c', 1)]]) };
    expect(pageOf(other, changed, rank(2), true)).to.deep.equal({ rows: [row('b', 20), row('c', 10)], truncated: false });
    // A map not kept gets a page of its own each time.
    const fresh = pageOf(window, changed, rank(2));
    expect(fresh).to.deep.equal(first);
    expect(fresh).to.not.equal(first);
  });
});
