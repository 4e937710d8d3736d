/**
 * The short form of `npm run chaos`'s outage stages: the real API and worker processes against a
 * PostgreSQL of their own, under 8 connections of load, while the database is stopped for 3 s, and
 * while every EventStats session is terminated. The full form stops it for 10 s (test/chaos/run.ts).
 */
import { expect } from 'chai';
import { killAllServices, startService, type ServiceProcess } from '../../helpers/service-process.ts';
import { startChaosCluster, type ChaosCluster } from '../../chaos/cluster.ts';
import { outageScenario, type OutageReport } from '../../chaos/outage.ts';

const CONNECT_TIMEOUT_MS = 1_000;

function expectSurvived(r: OutageReport): void {
  const context = JSON.stringify({ ...r, wrongAnswers: r.wrongAnswers.length }, null, 1);
  expect(r.wrongAnswers, `every answer 200, or 503 "database" with Retry-After: ${JSON.stringify(r.wrongAnswers)}`).to.deep.equal([]);
  expect(r.before.requests, context).to.be.greaterThan(0);
  // How soon is npm run chaos's to measure (its outage stage reports it); here, that they came back.
  expect(r.recoveryMs, `answers came back: ${context}`).to.be.a('number');
  expect(r.answersAsBefore, context).to.equal(true);
  expect(r.healthAfter, context).to.equal(200);
  expect(r.stray, 'nothing on stderr, nothing unhandled').to.deep.equal([]);
  expect(r.apiAlive && r.workerAlive, 'neither process died').to.equal(true);
  expect(r.workerResumedMs, `every view refreshed after recovery: ${context}`).to.be.a('number');
}

describe('chaos: the database goes away under load (short form of npm run chaos)', function () {
  this.timeout(600_000);
  let cluster: ChaosCluster;
  let api: ServiceProcess;
  let worker: ServiceProcess;
  let base: string;

  before(async () => {
    cluster = await startChaosCluster({ runs: 3_000 });
    // PORT=0: the port the OS chooses, read from the listening line (no free port guessed beforehand).
    api = startService('src/server.ts', { ...cluster.env, PORT: '0', DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS) });
    worker = startService('jobs/worker.ts', { ...cluster.env });
    await Promise.all([api.waitForMessage('EventStats listening'), worker.waitForMessage('refresh worker started')]);
    base = api.listeningUrl();
  });
  after(async () => {
    killAllServices();
    await cluster?.close();
  });

  it('stopped for 3 s: 503 "database" with Retry-After, back with the same answers, the outage logged in fewer lines than it refused', async () => {
    const r = await outageScenario({ cluster, api, base, worker, mode: 'stop', downMs: 3_000, connections: 8, connectTimeoutMs: CONNECT_TIMEOUT_MS, viewStateTtlMs: 1_000, resume: 'trigger' });
    expectSurvived(r);
    expect(r.down.requests, 'requests were answered while it was down').to.be.greaterThan(8);
    expect(Object.keys(r.down.byStatus), `only 503s while it was down (a second after the stop; cached 200s: ${JSON.stringify(r.cachedDuringDown)})`).to.deep.equal(['503']);
    expect(r.healthDuring).to.equal(503);
    // Rate-limited (about once a second; npm run chaos checks the rate): logged, but not once per refusal.
    expect(r.apiErrorLines, 'the outage logged at error level').to.be.at.least(1);
    expect(r.apiErrorLines, 'fewer error lines than refused requests').to.be.below(r.down.requests);
  });

  it('every EventStats session terminated: no error beyond a 503 "database", answers as before, the worker goes on', async () => {
    const r = await outageScenario({ cluster, api, base, worker, mode: 'terminate', downMs: 0, connections: 8, connectTimeoutMs: CONNECT_TIMEOUT_MS, viewStateTtlMs: 1_000, resume: 'trigger' });
    expectSurvived(r);
  });
});
