import { expect } from 'chai';
import { settlesWithin, within } from '../../../src/core/time-limit.ts';

describe('settlesWithin and within (the one bounded wait)', () => {
  const never = new Promise<never>(() => {});

  it('says whether a promise settled in time, counting a rejection as settled', async () => {
    expect(await settlesWithin(Promise.resolve(1), 1_000)).to.equal(true);
    expect(await settlesWithin(Promise.reject(new Error('no')), 1_000)).to.equal(true);
    expect(await settlesWithin(never, 5)).to.equal(false);
  });

  it('gives the outcome of a promise that settles in time, and rejects naming the limit otherwise', async () => {
    expect(await within(Promise.resolve('answer'), 1_000)).to.equal('answer');
    const failed = await within(Promise.reject(new Error('refused')), 1_000).catch((err: unknown) => err);
    expect((failed as Error).message).to.equal('refused');
    const late = await within(never, 5).catch((err: unknown) => err);
    expect((late as Error).message).to.equal('no answer within 5 ms');
  });
});
