import { expect } from 'chai';
import type { MergedWindow } from '../../../src/queries/merge.ts';
import { PartsCache } from '../../../src/queries/parts-cache.ts';
import type { PartRow } from '../../../src/queries/rollup.ts';

const rows = (n: number): PartRow[] => Array.from({ length: n }, (_, i) => ({ bucket: i, n: 1 }));
const never = () => false;

describe('PartsCache stats', () => {
  it('counts a lookup that finds its entry as a hit and one that does not as a miss, by kind', () => {
    const cache = new PartsCache({ stateTtlMs: 0, maxRows: 1_000 });
    expect(cache.segment('s', '7', never)).to.equal(undefined);
    cache.setSegment('s', '7', rows(2));
    expect(cache.segment('s', '7', never)).to.have.length(2);
    expect(cache.segment('s', '7', never)).to.have.length(2);
    expect(cache.window('w')).to.equal(undefined);
    cache.setWindow('w', { groups: new Map() } as MergedWindow);
    expect(cache.window('w')).not.to.equal(undefined);
    expect(cache.tail('w'), "a window's tail is an entry of its own").to.equal(undefined);
    const stats = cache.stats();
    expect(stats.hits).to.deep.equal({ segment: 2, window: 1, tail: 0 });
    expect(stats.misses).to.deep.equal({ segment: 1, window: 1, tail: 1 });
    expect(stats.evictions).to.equal(0);
    expect(stats.rows, 'a segment of 2 rows counts 3, an empty window 1').to.equal(4);
  });

  it('counts the entries dropped to stay within maxRows as evictions, and not the ones replaced under their key', () => {
    const cache = new PartsCache({ stateTtlMs: 0, maxRows: 10 });
    cache.setSegment('a', '7', rows(4)); // 5 rows counted
    cache.setSegment('b', '7', rows(4)); // 10: full
    cache.setSegment('b', '7', rows(3)); // replaced, not evicted
    expect(cache.stats().evictions).to.equal(0);
    cache.setSegment('c', '7', rows(4)); // 14 > 10: the least recently used ('a') goes
    expect(cache.stats().evictions).to.equal(1);
    expect(cache.segment('a', '7', never)).to.equal(undefined);
    expect(cache.stats().rows).to.equal(9);
  });

  it('hands out copies: a snapshot does not move with the cache', () => {
    const cache = new PartsCache({ stateTtlMs: 0, maxRows: 100 });
    const before = cache.stats();
    cache.segment('x', '7', never);
    expect(before.misses.segment).to.equal(0);
    expect(cache.stats().misses.segment).to.equal(1);
  });

  it('hands a segment read at an earlier version out at a later one only when told it still holds, and keeps it under the later one', () => {
    const cache = new PartsCache({ stateTtlMs: 0, maxRows: 100 });
    cache.setSegment('s', '7', rows(2));
    const asked: string[] = [];
    expect(cache.segment('s', '8', (readAt) => (asked.push(readAt), false)), 'changed since').to.equal(undefined);
    expect(asked).to.deep.equal(['7']);
    expect(cache.segment('s', '8', () => true)).to.have.length(2);
    // Kept under 8 now: a later check need not go back to 7.
    expect(cache.segment('s', '8', never)).to.have.length(2);
    expect(cache.stats().misses.segment).to.equal(1);
  });
});
