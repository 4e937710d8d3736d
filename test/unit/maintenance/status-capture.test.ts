import { expect } from 'chai';
import { nextCapture, parseCapture, STATUS_CAPTURE_MARGIN_MS } from '../../../src/maintenance/status-capture.ts';

const M = STATUS_CAPTURE_MARGIN_MS * 1000;

describe('the status capture bound (nextCapture)', () => {
  it('is the clock minus the margin when no writer holds the table', () => {
    expect(nextCapture(null, 5_000_000_000, [])).to.deep.equal({ readAtUs: 5_000_000_000, fromUs: 5_000_000_000 - M, holders: {} });
  });

  it("bounds a new writer by the later of its transaction's start and the previous clock (it took the lock after that)", () => {
    const previous = { readAtUs: 4_000_000_000, fromUs: 0, holders: {} };
    const next = nextCapture(previous, 5_000_000_000, [
      { vxid: '3/7', xactStartUs: 3_000_000_000 },
      { vxid: '4/9', xactStartUs: 4_500_000_000 },
      { vxid: '5/1', xactStartUs: null },
    ]);
    expect(next.holders).to.deep.equal({ '3/7': 4_000_000_000, '4/9': 4_500_000_000, '5/1': 4_000_000_000 });
    expect(next.fromUs).to.equal(4_000_000_000 - M);
  });

  it('keeps the bound of a writer seen before, however long it stays open', () => {
    const previous = { readAtUs: 9_000_000_000, fromUs: 0, holders: { '3/7': 1_000_000_000 } };
    const next = nextCapture(previous, 10_000_000_000, [{ vxid: '3/7', xactStartUs: null }]);
    expect(next.fromUs).to.equal(1_000_000_000 - M);
    expect(nextCapture(next, 11_000_000_000, []).fromUs, 'after it ended').to.equal(11_000_000_000 - M);
  });

  it('scans every row when a writer is open whose start is not known and no clock was read before', () => {
    const next = nextCapture(null, 5_000_000_000, [{ vxid: '3/7', xactStartUs: null }]);
    expect(next.fromUs).to.equal(null);
    expect(parseCapture(JSON.stringify(next))).to.deep.equal(next);
  });
});
