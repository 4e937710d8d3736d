import { expect } from 'chai';
import type { Executor } from '../../../src/db/executor.ts';
import type { SqlQuery } from '../../../src/db/sql.ts';
import { StableIds } from '../../../src/read/stable-ids.ts';

/** An executor whose probes the test answers by hand, one at a time. */
function scriptedProbes() {
  const waiting: { resolve: (rows: unknown[]) => void; reject: (e: Error) => void }[] = [];
  const executor: Executor = { query: <T>(_sql: SqlQuery) => new Promise<T[]>((resolve, reject) => waiting.push({ resolve: resolve as (rows: unknown[]) => void, reject })) };
  const row = (last: number) => ({ last: String(last), holders: [], held: 0, lsn: '100', waiting: false, cycle: '7' });
  return {
    executor,
    answer(last: number) {
      waiting.shift()!.resolve([row(last)]);
    },
    fail() {
      waiting.shift()!.reject(new Error('connection lost'));
    },
  };
}

describe('The stable-id probe', () => {
  it('keeps its last quiet finding while the next probe is under way, and drops it when that probe fails', async () => {
    const probes = scriptedProbes();
    const ids = new StableIds(0); // every call is due for a probe
    for (let i = 0; i < 2; i++) {
      const reading = ids.current(probes.executor);
      await Promise.resolve();
      probes.answer(42);
      await reading;
    }
    const found = ids.quiet();
    expect(found, 'two probes with nothing in flight').to.include({ stable: 42, cycle: '7' });
    // A read that got its stable id just before another request's probe began reads quiet() during it.
    const probing = ids.current(probes.executor);
    await Promise.resolve();
    expect(ids.quiet(), 'the finding stands while the probe is under way').to.equal(found);
    probes.fail();
    await probing;
    expect(ids.quiet(), 'a failed probe says nothing of what is in flight').to.equal(undefined);
  });
});
