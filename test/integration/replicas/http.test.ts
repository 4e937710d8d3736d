/**
 * A real `src/server.ts` reading from a real streaming replica (DATABASE_READ_URL), seen from HTTP:
 * which database answered (meta and /health), the replica going down (failover to the primary, and
 * /health 503 `degraded` naming it, statuses only), and coming back.
 */
import { expect } from 'chai';
import { startChaosCluster, type ChaosCluster } from '../../chaos/cluster.ts';
import { startReplica, type Replica } from '../../helpers/replica.ts';
import { killAllServices, startService } from '../../helpers/service-process.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the API over HTTP with DATABASE_READ_URL on a streaming replica', function () {
  this.timeout(300_000);
  let cluster: ChaosCluster;
  let replica: Replica;
  let base: string;

  before(async () => {
    cluster = await startChaosCluster({ runs: 1_000 });
    replica = await startReplica(cluster);
    // PORT=0: the port the OS chooses, read from the listening line (no free port guessed beforehand).
    const api = startService('src/server.ts', {
      ...cluster.env,
      PORT: '0',
      DATABASE_READ_URL: replica.url,
      DB_CONNECT_TIMEOUT_MS: '1000',
      REPLICA_RETRY_MS: '500',
      RETRY_AFTER_SECONDS: '3',
    });
    await api.waitForMessage('EventStats listening');
    base = api.listeningUrl();
  });
  after(async () => {
    killAllServices();
    await replica?.stop();
    await cluster?.close();
  });

  const query = async () => {
    const res = await fetch(`${base}/stats/public.cps.za.runs/query/failed_jobs`, {
      method: 'POST',
      headers: { authorization: cluster.bearer('alice'), 'content-type': 'application/json' },
      body: JSON.stringify({ days: 7 }),
    });
    return { status: res.status, body: (await res.json()) as { meta?: Record<string, unknown>; data?: unknown[] } };
  };
  const health = async () => {
    const res = await fetch(`${base}/health`);
    return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() };
  };

  it('answers from the replica, and says so in meta and /health', async () => {
    await replica.waitForReplay();
    const q = await query();
    expect(q.status).to.equal(200);
    expect(q.body.meta?.database).to.equal('replica');
    expect(q.body.meta?.replica_lag_ms).to.be.a('number');
    const h = await health();
    expect(h.status, h.text).to.equal(200);
    const checks = (JSON.parse(h.text) as { checks: { replicas: { answered_by: string; replicas: { status: string }[] } } }).checks;
    expect(checks.replicas.answered_by).to.equal('replica');
    expect(checks.replicas.replicas.map((r) => r.status)).to.deep.equal(['ok']);
  });

  it('fails over to the primary while the replica is down, /health says degraded without any error text, and it comes back', async () => {
    const before = await query();
    await replica.halt();
    try {
      const q = await query();
      expect(q.status, JSON.stringify(q.body)).to.equal(200);
      expect(q.body.meta?.database).to.equal('primary');
      expect(q.body.data).to.deep.equal(before.body.data);
      // /health runs its checks at most once a second: the answer of the test before may still stand.
      let h = await health();
      for (let i = 0; i < 20 && h.status === 200; i++) {
        await sleep(100);
        h = await health();
      }
      expect(h.status, h.text).to.equal(503);
      expect(h.retryAfter).to.equal('3');
      const body = JSON.parse(h.text) as { status: string; checks: { replicas: { replicas: { status: string }[] } } };
      expect(body.status).to.equal('degraded');
      expect(body.checks.replicas.replicas.map((r) => r.status)).to.deep.equal(['down']);
      // Statuses only: no server or driver text (an unauthenticated route).
      expect(h.text).not.to.match(/ECONNREFUSED|connect|127\.0\.0\.1|postgres/i);
    } finally {
      await replica.restart();
    }
    await replica.waitForReplay();
    // Past REPLICA_RETRY_MS the replica is tried again.
    let database: unknown;
    for (let i = 0; i < 40 && database !== 'replica'; i++) {
      await sleep(250);
      database = (await query()).body.meta?.database;
    }
    expect(database).to.equal('replica');
    let status = (await health()).status;
    for (let i = 0; i < 20 && status !== 200; i++) {
      await sleep(100);
      status = (await health()).status;
    }
    expect(status).to.equal(200);
  });
});
