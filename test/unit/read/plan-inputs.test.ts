/**
 * readPlanInputs: a new version whose recent tier starts where the last one's did keeps the last
 * version's level sizes (one small statement instead of a size sample per level and grain); a tier
 * that moved samples them again.
 */
import { expect } from 'chai';
import type { Executor } from '../../../src/db/executor.ts';
import type { SqlQuery } from '../../../src/db/sql.ts';
import { JOB_FACTS } from '../../../src/declarations/job-facts.ts';
import { readPlanInputs } from '../../../src/read/view-state.ts';
import { DAY_MS } from '../../../src/rollup/window.ts';

/** Answers the fine_from statement with `fineFrom`, any size sample with a count of 7; records every statement. */
function fakeExecutor(fineFrom: number, seen: string[]): Executor {
  return {
    async query<R extends object>(q: SqlQuery): Promise<R[]> {
      seen.push(q.text);
      if (q.text.includes('SELECT fine_from')) return [{ fine_from: String(fineFrom) }] as R[];
      return [{ lvl: 0, grain: 'day', n: 7 }, { lvl: -1, grain: null, n: 70 }] as R[];
    },
  };
}

describe('the plan inputs of a new version (readPlanInputs)', () => {
  const fine = Date.UTC(2026, 10, 29);

  it('samples the sizes when there is no previous version, and keeps them for a version of the same tier', async () => {
    const seen: string[] = [];
    const first = await readPlanInputs(JOB_FACTS, fakeExecutor(fine, seen));
    expect(seen).to.have.length(2);
    expect(first.sizes?.factsPerDay).to.equal(70);
    seen.length = 0;
    const next = await readPlanInputs(JOB_FACTS, fakeExecutor(fine, seen), first);
    expect(seen, 'only the tier start').to.have.length(1);
    expect(next.sizes).to.equal(first.sizes);
  });

  it('samples them again once the tier moved a day on', async () => {
    const seen: string[] = [];
    const first = await readPlanInputs(JOB_FACTS, fakeExecutor(fine, seen));
    seen.length = 0;
    const moved = await readPlanInputs(JOB_FACTS, fakeExecutor(fine + DAY_MS, seen), first);
    expect(seen).to.have.length(2);
    expect(moved.sizes).to.not.equal(first.sizes);
    expect([...moved.coverage.values()].every((from) => from === fine + DAY_MS)).to.equal(true);
  });
});
