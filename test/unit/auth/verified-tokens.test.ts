import { expect } from 'chai';
import { VerifiedTokens } from '../../../src/auth/verified-tokens.ts';

describe('VerifiedTokens', () => {
  const t0 = 1_800_000_000_000;
  const clock = { t: t0 };
  const tokens = (maxBytes?: number) => new VerifiedTokens({ now: () => clock.t, maxAgeMs: 60_000, ...(maxBytes === undefined ? {} : { maxBytes }) });
  beforeEach(() => {
    clock.t = t0;
  });

  it('knows only the exact token it was told about, under the same key set generation', () => {
    const cache = tokens();
    cache.remember('a.b.c', 'alice', 3, t0 / 1000 + 600);
    expect(cache.userOf('a.b.c', 3)).to.equal('alice');
    expect(cache.userOf('a.b.C', 3)).to.equal(undefined);
    expect(cache.userOf('a.b.c', 4)).to.equal(undefined);
    // A generation mismatch drops the entry: it does not come back for the old generation either.
    expect(cache.userOf('a.b.c', 3)).to.equal(undefined);
  });

  it('is never honoured at or past the token exp', () => {
    const cache = tokens();
    const exp = t0 / 1000 + 10;
    cache.remember('tok', 'alice', 1, exp);
    clock.t = exp * 1000 - 1;
    expect(cache.userOf('tok', 1)).to.equal('alice');
    clock.t = exp * 1000;
    expect(cache.userOf('tok', 1)).to.equal(undefined);
  });

  it('is not honoured past the age cap, with or without exp', () => {
    const cache = tokens();
    cache.remember('long', 'alice', 1, t0 / 1000 + 3600);
    cache.remember('no-exp', 'bob', 1, undefined);
    cache.remember('bad-exp', 'carol', 1, '9999999999');
    clock.t = t0 + 59_999;
    expect([cache.userOf('long', 1), cache.userOf('no-exp', 1), cache.userOf('bad-exp', 1)]).to.deep.equal(['alice', 'bob', 'carol']);
    clock.t = t0 + 60_000;
    expect([cache.userOf('long', 1), cache.userOf('no-exp', 1), cache.userOf('bad-exp', 1)]).to.deep.equal([undefined, undefined, undefined]);
  });

  it('holds at most `maxBytes`, dropping the least recently used token (two short entries fit in 700 bytes, three do not)', () => {
    const cache = tokens(700);
    const exp = t0 / 1000 + 600;
    cache.remember('one', 'u1', 1, exp);
    cache.remember('two', 'u2', 1, exp);
    expect(cache.userOf('one', 1)).to.equal('u1');
    cache.remember('three', 'u3', 1, exp);
    expect([cache.userOf('one', 1), cache.userOf('two', 1), cache.userOf('three', 1)]).to.deep.equal(['u1', undefined, 'u3']);
  });

  it('counts a token by its hash: 8 KB tokens weigh what short ones do, so many of them stay within the bound', () => {
    const cache = tokens(10_000);
    const exp = t0 / 1000 + 600;
    cache.remember('short', 'u', 1, exp);
    const one = cache.bytes;
    for (let i = 0; i < 200; i++) cache.remember(`${'x'.repeat(8192)}${i}`, 'u', 1, exp);
    expect(one).to.be.below(400);
    expect(cache.bytes).to.be.at.most(10_000);
    expect(cache.userOf(`${'x'.repeat(8192)}199`, 1)).to.equal('u');
  });
});
