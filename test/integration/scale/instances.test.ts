/**
 * Three API processes (two under WEB_CONCURRENCY, one alone) and two refresh workers against one
 * primary and one streaming replica (the API reads there) while the gateway writes
 * (test/chaos/instances.ts). INSTANCES_SECONDS sets how long the
 * writer and the load run (60 by default, as issue 16 asks; the suite can run it shorter).
 */
import { expect } from 'chai';
import { registeredViews } from '../../../src/declarations/index.ts';
import { startChaosCluster, type ChaosCluster } from '../../chaos/cluster.ts';
import { instancesScenario } from '../../chaos/instances.ts';
import { startReplica, type Replica } from '../../helpers/replica.ts';
import { killAllServices } from '../../helpers/service-process.ts';

const SECONDS = Number(process.env.INSTANCES_SECONDS ?? 60);

describe('many API processes and refresh workers on one primary and one replica while the source changes', function () {
  this.timeout(600_000);
  let cluster: ChaosCluster;
  let replica: Replica;

  before(async () => {
    cluster = await startChaosCluster({ runs: 2_000 });
    replica = await startReplica(cluster);
  });
  after(async () => {
    killAllServices();
    await replica?.stop();
    await cluster?.close();
  });

  it(`answers every request (${SECONDS} s of load) as the oracle at each checkpoint, self-consistently in between, and never refreshes a view twice at once`, async () => {
    const r = await instancesScenario({
      cluster,
      durationMs: SECONDS * 1_000,
      checkpointEveryMs: 10_000,
      connections: 2,
      workers: 2,
      replica: { url: replica.url, caughtUp: () => replica.waitForReplay() },
    });
    const context = JSON.stringify(r, null, 1);
    expect(r.apiProcesses, context).to.equal(3);
    expect(r.answeringPids, 'every API process answered').to.equal(3);
    expect(r.checkpoints, context).to.be.greaterThan(1);
    expect(r.mismatches, context).to.deep.equal([]);
    expect(r.compared, context).to.be.greaterThan(0);
    expect(Object.keys(r.statuses), `only 200s under load: ${context}`).to.deep.equal(['200']);
    expect(r.inconsistent, context).to.deep.equal([]);
    expect(Object.keys(r.databases), `every answer under load came from the replica: ${context}`).to.deep.equal(['replica']);
    expect(r.writes.runs, context).to.be.greaterThan(20);
    expect(r.writes.failures, context).to.equal(0);
    expect(r.overlaps, context).to.deep.equal([]);
    expect(r.lostOccurrences, context).to.deep.equal([]);
    if (SECONDS >= 60) for (const { name: view } of registeredViews()) expect(r.occurrences[view], `${view} was scheduled: ${context}`).to.be.greaterThan(0);
    expect(Object.keys(r.jobs).sort(), `jobs by state: ${context}`).to.deep.equal(['completed']);
    expect(r.inexact, 'every view equals the oracle after the last trigger').to.equal(undefined);
    expect(r.stray, context).to.deep.equal([]);
  });
});
