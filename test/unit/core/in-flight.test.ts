import { expect } from 'chai';
import { InFlight, type Ticket } from '../../../src/core/in-flight.ts';

describe('InFlight: one user\'s requests under way at once', () => {
  /** A schedule the test runs by hand, so that "resumed on a later turn" is a step it takes. */
  const manual = () => {
    const pending: (() => void)[] = [];
    return {
      schedule: (run: () => void) => void pending.push(run),
      runAll() {
        while (pending.length) pending.shift()!();
      },
    };
  };
  const never = () => {
    throw new Error('resumed, but it should not have waited');
  };

  it('lets a user below the bound go on at once and does not touch anyone else', () => {
    const f = new InFlight({ perUser: 2, queuePerUser: 1 });
    const a = f.enter('alice', never)!;
    const b = f.enter('alice', never)!;
    const c = f.enter('carol', never)!;
    expect([a.waiting, b.waiting, c.waiting]).to.deep.equal([false, false, false]);
    expect(f.stats()).to.deep.include({ active: 3, waiting: 0, queued: 0, rejected: 0, users: 2 });
  });

  it("queues a user's requests past the bound in order, refuses past the queue, and resumes them one per freed place on a later turn", () => {
    const turn = manual();
    const f = new InFlight({ perUser: 1, queuePerUser: 2 }, turn.schedule);
    const resumed: string[] = [];
    const first = f.enter('alice', never)!;
    const second = f.enter('alice', () => resumed.push('second'))!;
    const third = f.enter('alice', () => resumed.push('third'))!;
    expect([second.waiting, third.waiting]).to.deep.equal([true, true]);
    expect(f.enter('alice', never), 'the queue is full').to.equal(undefined);
    expect(f.enter('carol', never)?.waiting, 'another user is not queued').to.equal(false);
    expect(f.stats()).to.deep.include({ active: 2, waiting: 2, rejected: 1 });

    first.release();
    expect(resumed, 'not in the releasing turn').to.deep.equal([]);
    turn.runAll();
    expect(resumed).to.deep.equal(['second']);
    expect(f.stats()).to.deep.include({ active: 2, waiting: 1, queued: 1 });
    second.release();
    turn.runAll();
    expect(resumed).to.deep.equal(['second', 'third']);
    third.release();
    expect(f.stats()).to.deep.include({ active: 1, waiting: 0, queued: 2, users: 1 });
  });

  it('frees a waiting place when its request leaves the queue, and skips it when a place frees', () => {
    const turn = manual();
    const f = new InFlight({ perUser: 1, queuePerUser: 2 }, turn.schedule);
    const resumed: string[] = [];
    const first = f.enter('alice', never)!;
    const gone = f.enter('alice', () => resumed.push('gone'))!;
    f.enter('alice', () => resumed.push('kept'));
    gone.release();
    gone.release();
    expect(f.stats()).to.deep.include({ active: 1, waiting: 1 });
    expect(f.enter('alice', () => resumed.push('after'))?.waiting, 'its place in the queue is free again').to.equal(true);
    first.release();
    turn.runAll();
    expect(resumed).to.deep.equal(['kept']);
  });

  it('does not resume a request whose client left between being handed a place and its turn, and frees that place', () => {
    const turn = manual();
    const f = new InFlight({ perUser: 1, queuePerUser: 1 }, turn.schedule);
    let ran = false;
    const first = f.enter('alice', never)!;
    const waiter = f.enter('alice', () => (ran = true))!;
    first.release();
    waiter.release();
    turn.runAll();
    expect(ran).to.equal(false);
    expect(f.stats()).to.deep.include({ active: 0, waiting: 0, users: 0 });
  });

  it('frees a place once however often it is released, and forgets a user with nothing under way or waiting', () => {
    const turn = manual();
    const f = new InFlight({ perUser: 2, queuePerUser: 4 }, turn.schedule);
    const tickets: Ticket[] = [];
    for (let i = 0; i < 6; i++) tickets.push(f.enter('alice', () => {})!);
    for (let round = 0; round < 3; round++) {
      for (const t of tickets) t.release();
      turn.runAll();
    }
    expect(f.stats()).to.deep.include({ active: 0, waiting: 0, users: 0 });
    expect(f.enter('alice', never)?.waiting).to.equal(false);
  });

  it('refuses limits that admit nothing', () => {
    expect(() => new InFlight({ perUser: 0, queuePerUser: 1 })).to.throw(/perUser >= 1/);
  });
});
