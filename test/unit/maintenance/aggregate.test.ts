/**
 * Where a rebuild's level bases come from (planBases): a level is rolled up from a base that holds its
 * dimensions at grains as fine as its own, so a rebuild reads the facts once per base that has no
 * such parent instead of once per level. The exactness and maintenance tests prove the rows equal;
 * this pins the plan, so a change that quietly reads the facts again per level fails here.
 */
import { expect } from 'chai';
import { planBases, type Base } from '../../../src/maintenance/aggregate.ts';
import { registeredViews } from '../../../src/declarations/index.ts';
import { JOB_FACTS } from '../../../src/declarations/job-facts.ts';
import { VIEWS } from '../../../src/db/tables.ts';
import { GRAIN_MS } from '../../../src/rollup/window.ts';

const fromFacts = (bases: readonly Base[]) => bases.filter((b) => !b.parent).map((b) => b.name);

describe('the bases of a rebuild (planBases)', () => {
  it('reads the facts four times for mv_job_facts, not once per level (nine), and twice for mv_run_status_summary, not five', () => {
    const jobs = planBases(JOB_FACTS, true);
    expect(fromFacts(jobs).sort()).to.deep.equal(['base_0', 'base_7', 'base_8', 'helper_0']);
    const status = planBases(registeredViews().find((v) => v.name === VIEWS.runStatusSummary)!.spec, true);
    expect(fromFacts(status).sort()).to.deep.equal(['base_2', 'base_4']);
  });

  it('rolls every base up from one holding its dimensions at grains that divide its own, defined before it', () => {
    for (const v of registeredViews()) {
      const bases = planBases(v.spec, true);
      expect(bases.filter((b) => b.name.startsWith('base_')).map((b) => Number(b.name.slice(5))).sort(), v.name).to.deep.equal(v.spec.levels.map((l) => l.id).sort());
      for (const [i, b] of bases.entries()) {
        if (!b.parent) continue;
        expect(bases.indexOf(b.parent), `${v.name} ${b.name}: its parent comes first`).to.be.within(0, i - 1);
        for (const d of b.dims) expect(b.parent.dims, `${v.name} ${b.name} <- ${b.parent.name}`).to.include(d);
        expect(b.gOld % b.parent.gOld, `${v.name} ${b.name}`).to.equal(0);
        expect(b.gNew % b.parent.gNew, `${v.name} ${b.name}`).to.equal(0);
      }
    }
  });

  it('shares a helper base among the levels read by hour from the facts: TP, TPE, K and EK from one TPEK base', () => {
    const bases = planBases(JOB_FACTS, true);
    const helper = bases.find((b) => b.name === 'helper_0')!;
    expect(helper.dims).to.deep.equal(['tenant_id', 'source_app', 'environment', 'country']);
    expect([helper.gOld, helper.gNew]).to.deep.equal([GRAIN_MS.hour, GRAIN_MS.minute]);
    expect(bases.filter((b) => b.parent === helper).map((b) => b.name).sort()).to.deep.equal(['base_1', 'base_2', 'base_3', 'base_4']);
  });

  it('keeps every level on the facts when not bulk (a cycle merges a few minutes of facts: one materialized pass)', () => {
    for (const v of registeredViews()) expect(fromFacts(planBases(v.spec, false)), v.name).to.have.length(v.spec.levels.length);
  });
});
