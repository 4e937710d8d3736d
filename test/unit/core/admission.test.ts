import { expect } from 'chai';
import { Admission } from '../../../src/core/admission.ts';
import { OverloadedError } from '../../../src/core/errors.ts';

describe('Admission of reads of the base tables', () => {
  const limits = { globalMax: 3, userMax: 2, retryAfterSeconds: 4 };

  it("refuses a user's third read while two of theirs are under way, with 429 and the Retry-After hint, and admits another user's", () => {
    const a = new Admission(limits);
    a.enter('alice');
    a.enter('alice');
    let refused: unknown;
    try {
      a.enter('alice');
    } catch (err) {
      refused = err;
    }
    expect(refused).to.be.instanceOf(OverloadedError);
    expect(refused).to.include({ status: 429, type: 'overloaded', retryAfterSeconds: 4 });
    expect((refused as Error).message).to.match(/for this user \(at most 2 at once\)/);
    expect(() => a.enter('bob')).not.to.throw();
    expect(a.stats()).to.deep.include({ active: 3, admitted: 3, rejected: { user: 1, global: 0 } });
  });

  it('refuses anyone once the process has globalMax under way, and admits again when one is released (once, however often it is called)', () => {
    const a = new Admission(limits);
    const first = a.enter('alice');
    a.enter('bob');
    a.enter('carol');
    expect(() => a.enter('dave')).to.throw(OverloadedError, /under way \(at most 3 at once\)/);
    first();
    first();
    expect(a.stats().active).to.equal(2);
    expect(() => a.enter('dave')).not.to.throw();
    expect(() => a.enter('erin')).to.throw(OverloadedError);
    expect(a.stats().rejected).to.deep.equal({ user: 0, global: 2 });
  });

  it('releases a run that fails as well as one that succeeds', async () => {
    const a = new Admission({ ...limits, userMax: 1 });
    await a.run('alice', () => Promise.reject(new Error('statement timeout'))).catch(() => {});
    expect(await a.run('alice', async () => 'ok')).to.equal('ok');
    expect(a.stats().active).to.equal(0);
  });
});
