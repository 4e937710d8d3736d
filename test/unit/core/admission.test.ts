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
    expect(a.stats()).to.deep.include({ active: 3, admitted: 3, rejected: { user: 1, global: 0, budget: 0, load: 0 } });
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
    expect(a.stats().rejected).to.deep.equal({ user: 0, global: 2, budget: 0, load: 0 });
  });

  it('releases a run that fails as well as one that succeeds', async () => {
    const a = new Admission({ ...limits, userMax: 1 });
    await a.run('alice', () => Promise.reject(new Error('statement timeout'))).catch(() => {});
    expect(await a.run('alice', async () => 'ok')).to.equal('ok');
    expect(a.stats().active).to.equal(0);
  });

  it("holds a refusal for the user's own limit by refusalHoldMs, and never one for the process's limit", () => {
    const a = new Admission({ ...limits, globalMax: 2, userMax: 1, refusalHoldMs: 1_000 });
    a.enter('alice');
    expect(a.refusal('alice')).to.include({ limit: 'user', holdMs: 1_000 });
    let held: unknown;
    try {
      a.enter('alice');
    } catch (err) {
      held = err;
    }
    expect(held).to.be.instanceOf(OverloadedError);
    expect(held).to.include({ holdMs: 1_000, retryAfterSeconds: 4 });
    a.enter('bob');
    expect(a.refusal('carol'), "another user refused by the process's limit is answered at once").to.include({ limit: 'global', holdMs: 0 });
    expect(new Admission(limits).refusal('x'), 'nothing to refuse').to.equal(undefined);
  });

  describe('with a time budget per user (ADMISSION_USER_SHARE)', () => {
    // A clock the test moves: each admitted read is charged the time between its enter and its release.
    let now = 0;
    const clock = () => now;
    const budgeted = () => new Admission({ ...limits, userShare: 0.25, burstMs: 1_000 }, clock);
    const spend = (a: Admission, user: string, ms: number) => {
      const release = a.enter(user);
      now += ms;
      release();
    };
    beforeEach(() => (now = 0));

    it("refuses a user with no read under way once their reads have used the burst, with a Retry-After that says when the share is earned back, and goes on admitting another user's", () => {
      const a = budgeted();
      spend(a, 'alice', 600);
      spend(a, 'alice', 600); // admitted at 400 ms left, now 200 ms in debt
      let refused: unknown;
      try {
        a.enter('alice');
      } catch (err) {
        refused = err;
      }
      expect(refused).to.be.instanceOf(OverloadedError);
      // 200 ms of debt at 0.25 ms per ms: positive again after 800 ms, announced as 1 s.
      expect(refused).to.include({ status: 429, type: 'overloaded', retryAfterSeconds: 1 });
      expect((refused as Error).message).to.match(/used their share of the time \(0\.25 of one connection/);
      expect(() => a.enter('bob')()).not.to.throw();
      expect(a.stats()).to.deep.include({ active: 0, rejected: { user: 0, global: 0, budget: 1, load: 0 }, budgets: 1 });
    });

    it('admits the user again once the debt is earned back, and no sooner', () => {
      const a = budgeted();
      spend(a, 'alice', 1_200); // 200 ms in debt
      now += 799;
      expect(() => a.enter('alice'), 'at 799 ms the balance is still -0.25 ms').to.throw(OverloadedError);
      now += 2;
      expect(() => a.enter('alice')(), 'at 801 ms it is positive').not.to.throw();
    });

    it('announces a longer Retry-After for a deeper debt (a read that ran for seconds)', () => {
      const a = budgeted();
      spend(a, 'alice', 5_000); // 4,000 ms in debt: 16 s to earn back
      expect(() => a.enter('alice')).to.throw(OverloadedError).with.property('retryAfterSeconds', 17);
    });

    it('forgets a user whose budget has refilled, so the map holds only recent spenders', () => {
      const a = budgeted();
      spend(a, 'alice', 100);
      expect(a.stats().budgets).to.equal(1);
      now += 400; // 100 ms earned back at 0.25: full again
      spend(a, 'alice', 0);
      expect(a.stats().budgets).to.equal(0);
    });

    it('keeps the bucket map bounded: once it passes 1024 entries, the refilled ones are swept', () => {
      const a = budgeted();
      for (let i = 0; i < 1024; i++) spend(a, `user${i}`, 10);
      expect(a.stats().budgets).to.equal(1024);
      now += 1_000; // every one of them refilled (10 ms at 0.25 takes 40 ms)
      spend(a, 'late', 10);
      expect(a.stats().budgets).to.equal(1);
    });

    it('charges nothing and refuses nobody by time without a share (the default)', () => {
      const a = new Admission({ ...limits, userMax: 1 }, clock);
      for (let i = 0; i < 10; i++) spend(a, 'alice', 60_000);
      expect(a.stats()).to.deep.include({ rejected: { user: 0, global: 0, budget: 0, load: 0 }, budgets: 0 });
    });

    it('refuses a share without a burst at construction', () => {
      expect(() => new Admission({ ...limits, userShare: 0.5 })).to.throw(/burstMs > 0/);
    });
  });

  describe('with a bound on the event loop load (ADMISSION_MAX_LOOP_LOAD)', () => {
    let load = 0;
    const loaded = () => new Admission({ ...limits, maxLoopLoad: 0.6 }, () => 0, () => load);

    it('refuses every user a read of the base tables while the loop is busier than the bound, with Retry-After 1 s, and admits again once it is not', () => {
      const a = loaded();
      load = 0.75;
      let refused: unknown;
      try {
        a.enter('carol');
      } catch (err) {
        refused = err;
      }
      expect(refused).to.be.instanceOf(OverloadedError);
      expect(refused).to.include({ status: 429, type: 'overloaded', retryAfterSeconds: 1 });
      expect((refused as Error).message).to.match(/event loop 75% busy, above 60%/);
      load = 0.6;
      expect(() => a.enter('carol')).not.to.throw();
      expect(a.stats()).to.deep.include({ active: 1, rejected: { user: 0, global: 0, budget: 0, load: 1 } });
    });

    it('never reads the load without the bound (the default)', () => {
      const a = new Admission(limits, () => 0, () => {
        throw new Error('read');
      });
      expect(() => a.enter('carol')).not.to.throw();
    });
  });
});
