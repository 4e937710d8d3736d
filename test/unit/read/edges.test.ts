import { expect } from 'chai';
import { edgeBucket, edgesServe } from '../../../src/read/edges.ts';
import { HOUR_MS, MINUTE_MS } from '../../../src/rollup/window.ts';

const T = Date.UTC(2026, 11, 7, 13, 0, 0); // on an hour boundary

describe('Edge buckets', () => {
  it('puts an edge in the finest epoch-aligned minute or hour that holds all of it', () => {
    expect(edgeBucket({ from: T + 12_345, to: T + MINUTE_MS })).to.deep.equal({ from: T, to: T + MINUTE_MS });
    expect(edgeBucket({ from: T + 5 * MINUTE_MS, to: T + 5 * MINUTE_MS + 1 })).to.deep.equal({ from: T + 5 * MINUTE_MS, to: T + 6 * MINUTE_MS });
    expect(edgeBucket({ from: T + 59_000, to: T + 61_000 }), 'across a minute boundary: its hour').to.deep.equal({ from: T, to: T + HOUR_MS });
    expect(edgeBucket({ from: T - 1, to: T + 1 }), 'across an hour boundary: none').to.equal(undefined);
    expect(edgeBucket({ from: -MINUTE_MS + 5, to: -1 }), 'before the epoch').to.deep.equal({ from: -MINUTE_MS, to: 0 });
  });

  it('serves a read only when every raw range lies in a bucket', () => {
    expect(edgesServe([])).to.equal(false);
    expect(edgesServe([{ from: T + 1, to: T + MINUTE_MS }, { from: T + 2 * HOUR_MS, to: T + 2 * HOUR_MS + 17 }])).to.equal(true);
    expect(edgesServe([{ from: T + 1, to: T + MINUTE_MS }, { from: T, to: T + 2 * HOUR_MS }])).to.equal(false);
  });
});
