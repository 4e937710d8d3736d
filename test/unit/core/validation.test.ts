import { expect } from 'chai';
import { unstorableString } from '../../../src/core/validation.ts';


describe('unstorableString', () => {
  it('names the path of a NUL or an unpaired surrogate, in a value or a key', () => {
    expect(unstorableString({ a: [1, { b: 'x\u0000' }] })).to.equal('a.1.b');
    expect(unstorableString({ a: { 'k\ud800': 1 } })).to.equal('a.k\ud800');
    expect(unstorableString(['\udc00'])).to.equal('0');
    expect(unstorableString('\u0000')).to.equal('body');
    expect(unstorableString({ a: ['fine', '\u{1F600}'] })).to.equal(undefined);
  });

  // Issue 14, found by the HTTP fuzz: the deepest body 64 kB allows stalled the event loop for 185 ms
  // (quadratic in the depth). Its time is measured by npm run fuzz (event-loop delay), not here.
  const DEPTH = 30_000;
  const deep = JSON.parse(`{"tenant_id":${'['.repeat(DEPTH)}"\\u0000"${']'.repeat(DEPTH)}}`) as unknown;

  it(`names the path of a NUL under ${DEPTH} levels of nesting, and in a flat array of as many values`, () => {
    const flat = JSON.parse(JSON.stringify({ tenant_id: [...Array(DEPTH).fill('a'), '\u0000'] })) as unknown;
    expect(unstorableString(flat)).to.equal(`tenant_id.${DEPTH}`);
    expect(unstorableString(deep)).to.equal(`tenant_id${'.0'.repeat(DEPTH)}`);
  });

});
