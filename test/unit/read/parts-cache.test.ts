import { expect } from 'chai';
import type { MergedWindow } from '../../../src/read/merge.ts';
import { PartsCache, partsEntryBytes } from '../../../src/read/parts-cache.ts';
import type { PartRow } from '../../../src/rollup/spec.ts';

const rows = (n: number): PartRow[] => Array.from({ length: n }, (_, i) => ({ bucket: i, n: 1 }));
const never = () => false;

describe('PartsCache stats', () => {
  it('counts a lookup that finds its entry as a hit and one that does not as a miss, by kind', () => {
    const cache = new PartsCache({ stateTtlMs: 0 });
    expect(cache.segment('s', '7', never)).to.equal(undefined);
    cache.setSegment('s', '7', rows(2));
    expect(cache.segment('s', '7', never)).to.have.length(2);
    expect(cache.segment('s', '7', never)).to.have.length(2);
    expect(cache.window('w')).to.equal(undefined);
    cache.setWindow('w', { groups: new Map() } as MergedWindow);
    expect(cache.window('w')).not.to.equal(undefined);
    expect(cache.tail('w'), "a window's tail is an entry of its own").to.equal(undefined);
    const edge = { stable: 9, cycle: '3', ts: [1, 2], rows: rows(2) };
    expect(cache.edge('w'), "so is an edge bucket's").to.equal(undefined);
    cache.setEdge('w', edge);
    expect(cache.edge('w')).to.equal(edge);
    const stats = cache.stats();
    expect(stats.hits).to.deep.equal({ segment: 2, window: 1, tail: 0, answer: 0, edge: 1 });
    expect(stats.misses).to.deep.equal({ segment: 1, window: 1, tail: 1, answer: 0, edge: 1 });
    expect(stats.evictions).to.equal(0);
    const bytes = partsEntryBytes('s', { version: '7', rows: rows(2) }) + partsEntryBytes('w', { groups: new Map() } as MergedWindow) + partsEntryBytes('edge|w', edge);
    expect(stats.bytes, 'each entry counted with its key').to.equal(bytes);
    expect(stats.ownedBytes, "the empty window is in the anonymous reader's share").to.equal(partsEntryBytes('w', { groups: new Map() } as MergedWindow));
  });

  it('counts the entries dropped to stay within maxBytes as evictions, and not the ones replaced under their key', () => {
    const four = partsEntryBytes('a', { version: '7', rows: rows(4) });
    const cache = new PartsCache({ stateTtlMs: 0, maxBytes: 2 * four });
    cache.setSegment('a', '7', rows(4));
    cache.setSegment('b', '7', rows(4)); // full
    cache.setSegment('b', '7', rows(3)); // replaced, not evicted
    expect(cache.stats().evictions).to.equal(0);
    cache.setSegment('c', '7', rows(4)); // over: the least recently used ('a') goes
    expect(cache.stats().evictions).to.equal(1);
    expect(cache.segment('a', '7', never)).to.equal(undefined);
    expect(cache.stats().bytes).to.equal(four + partsEntryBytes('b', { version: '7', rows: rows(3) }));
  });

  it('keeps a long key as its hash: an entry keyed by 100 values of 240 characters weighs what a short-keyed one does', () => {
    const cache = new PartsCache({ stateTtlMs: 0 });
    const long = JSON.stringify(Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(240, 'x')));
    cache.setSegment(long, '7', rows(1));
    expect(cache.segment(long, '7', never)).to.have.length(1);
    expect(cache.segment(`${long}!`, '7', never), 'a key one character longer is another entry').to.equal(undefined);
    expect(cache.stats().bytes).to.be.below(1_000);
  });

  it("keeps one user's filtered entries within their share, evicting their oldest and never another user's or the shared entries", () => {
    const one = partsEntryBytes('f0', { version: '7', rows: rows(4) });
    const cache = new PartsCache({ stateTtlMs: 0, maxBytes: 100 * one, userMaxBytes: 3 * one });
    cache.setSegment('shared', '7', rows(4), { user: 'alice', filtered: false });
    cache.setSegment('bob', '7', rows(4), { user: 'bob', filtered: true });
    for (let i = 0; i < 10; i++) cache.setSegment(`f${i}`, '7', rows(4), { user: 'alice', filtered: true });
    const kept = Array.from({ length: 10 }, (_, i) => cache.segment(`f${i}`, '7', never) !== undefined);
    expect(kept).to.deep.equal([false, false, false, false, false, false, false, true, true, true]);
    expect(cache.segment('shared', '7', never)).to.have.length(4);
    expect(cache.segment('bob', '7', never)).to.have.length(4);
    expect(cache.stats().ownedBytes).to.equal(3 * one + partsEntryBytes('bob', { version: '7', rows: rows(4) }));
    expect(cache.stats().evictions).to.equal(7);
  });

  it("counts an empty result against its reader's share even when no filter of theirs shaped it", () => {
    const empty = partsEntryBytes('e0', { version: '7', rows: [] });
    const cache = new PartsCache({ stateTtlMs: 0, maxBytes: 1_000 * empty, userMaxBytes: 2 * empty });
    for (let i = 0; i < 5; i++) cache.setSegment(`e${i}`, '7', [], { user: 'carol', filtered: false });
    expect(cache.stats().bytes).to.equal(2 * empty);
    expect(cache.stats().ownedBytes).to.equal(2 * empty);
  });

  it('hands out copies: a snapshot does not move with the cache', () => {
    const cache = new PartsCache({ stateTtlMs: 0 });
    const before = cache.stats();
    cache.segment('x', '7', never);
    expect(before.misses.segment).to.equal(0);
    expect(cache.stats().misses.segment).to.equal(1);
  });

  it('hands a segment read at an earlier version out at a later one only when told it still holds, and keeps it under the later one', () => {
    const cache = new PartsCache({ stateTtlMs: 0 });
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
