/**
 * The short form of `npm run chaos`'s competing-workers stage: three worker processes, the CLI in a
 * loop and a trigger a second, for 30 s while the gateway writes (3 minutes in the full form).
 */
import { expect } from 'chai';
import { registeredViews } from '../../../src/declarations/index.ts';
import { killAllServices } from '../../helpers/service-process.ts';
import { startChaosCluster, type ChaosCluster } from '../../chaos/cluster.ts';
import { competingScenario } from '../../chaos/competing.ts';

describe('chaos: three workers and the CLI refresh at once while the source changes (short form of npm run chaos)', function () {
  this.timeout(600_000);
  let cluster: ChaosCluster;

  before(async () => {
    cluster = await startChaosCluster({ runs: 2_000 });
  });
  after(async () => {
    killAllServices();
    await cluster?.close();
  });

  it('never refreshes a view twice at once, leaves no job stuck or failed, and loses no refresh', async () => {
    const r = await competingScenario({ cluster, workers: 3, durationMs: 30_000, triggerEveryMs: 1_000 });
    const context = JSON.stringify(r, null, 1);
    expect(r.overlaps, context).to.deep.equal([]);
    expect(r.cliRuns, context).to.be.greaterThan(1);
    expect(r.cliFailures, context).to.equal(0);
    expect(r.writes.runs, context).to.be.greaterThan(50);
    expect(r.writes.failures, context).to.equal(0);
    // Every registered view, not only those the log happens to name: one that never refreshed fails here.
    for (const { name: view } of registeredViews()) expect(r.attempts[view]?.refreshed, `${view} refreshed: ${context}`).to.be.greaterThan(1);
    expect(Object.keys(r.jobs).sort(), `jobs by state: ${context}`).to.deep.equal(['completed']);
    expect(r.inexact, 'every view equals the oracle after the last trigger').to.equal(undefined);
    expect(r.stray, context).to.deep.equal([]);
  });
});
