/**
 * Several workers on one database, and readers during refreshes: one refresh per view at a time,
 * and no read ever fails because a view is being refreshed.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import type { PgBoss } from 'pg-boss';
import { refreshQueue } from '../../../src/db/tables.ts';
import type { RefreshWorker } from '../../../src/refresh/worker.ts';
import type { Access } from '../../../src/auth/acl.ts';
import { VIEWS } from '../../../src/db/tables.ts';
import { prepareQuery } from '../../../src/read/execute.ts';
import { PartsCache } from '../../../src/read/parts-cache.ts';
import { registeredViews, SUPPORTED_QUERIES } from '../../../src/declarations/index.ts';
import { NOW, seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { idleQueue, observer, refreshLog, testWorker, type RefreshLogRow } from '../../helpers/refresh-worker.ts';

const ALL: Access = { kind: 'all' };
const REFRESHES = 4;

/**
 * Triggers a view from every worker, again and again, until it has been refreshed `count` more
 * times: triggers land before, during and between refreshes, and both workers poll its queue.
 */
async function keepTriggering(s: SeededDatabase, workers: readonly RefreshWorker[], boss: PgBoss, view: string, count: number): Promise<void> {
  const target = (await refreshed(s, view)).length + count;
  while ((await refreshed(s, view)).length < target) {
    await Promise.all(workers.flatMap((w) => [w.trigger(view, { force: true }), w.trigger(view, { force: true })]));
    await delay(20);
  }
  await idleQueue(boss, refreshQueue(view));
}

async function refreshed(s: SeededDatabase, view: string): Promise<RefreshLogRow[]> {
  return (await refreshLog(s.db.pool, view)).filter((r) => r.outcome === 'refreshed');
}

describe('refresh workers sharing a database', function () {
  this.timeout(180_000);
  let s: SeededDatabase;
  let workers: RefreshWorker[] = [];
  let boss: PgBoss;

  before(async () => {
    s = await seededDatabase({ runs: 3_000 });
    workers = [testWorker(s.db.url), testWorker(s.db.url)];
    for (const w of workers) await w.start();
    boss = await observer(s.db.url);
  });
  after(async () => {
    for (const w of workers) await w.stop();
    await boss?.stop();
    await s?.close();
  });

  it('never run two refreshes of one view at the same time, however many triggers arrive', async () => {
    await Promise.all(registeredViews().map((v) => keepTriggering(s, workers, boss, v.name, REFRESHES)));

    for (const v of registeredViews()) {
      const log = await refreshed(s, v.name);
      const byStart = [...log].sort((a, b) => a.started_at.getTime() - b.started_at.getTime());
      for (let i = 1; i < byStart.length; i++) {
        const previous = byStart[i - 1]!;
        const next = byStart[i]!;
        expect(next.started_at.getTime(), `${v.name}: refresh ${next.id} started before ${previous.id} finished`).to.be.at.least(previous.finished_at.getTime());
      }
      // refreshView's advisory lock answers 'coalesced' to a second concurrent refresh; that no job
      // ever got that answer shows the queue policy alone kept the refreshes apart.
      const { rows } = await s.db.pool.query<{ outcome: string }>(
        `SELECT DISTINCT output->>'outcome' AS outcome FROM pgboss.job WHERE name = $1 AND state = 'completed'`,
        [refreshQueue(v.name)],
      );
      expect(rows.map((r) => r.outcome), v.name).to.deep.equal(['refreshed']);
    }
  });

  it('answer every read issued while the views refresh', async () => {
    const logged = (await refreshed(s, VIEWS.jobFacts)).length;
    const errors: unknown[] = [];
    let reads = 0;
    let refreshing = true;
    // One cache across the refreshes, as in a server: every new version must be picked up.
    const cache = new PartsCache({ stateTtlMs: 0 });
    const reader = (async () => {
      while (refreshing) {
        for (const q of SUPPORTED_QUERIES) {
          try {
            await prepareQuery(q, {}, ALL, NOW).run(s.executor, cache);
            reads++;
          } catch (err) {
            errors.push(err);
          }
        }
      }
    })();
    try {
      await Promise.all(registeredViews().map((v) => keepTriggering(s, workers, boss, v.name, REFRESHES)));
    } finally {
      refreshing = false;
      await reader;
    }

    expect(errors).to.deep.equal([]);
    expect(reads).to.be.greaterThan(0);
    expect((await refreshed(s, VIEWS.jobFacts)).length - logged, 'refreshes during the reads').to.be.at.least(REFRESHES);
  });
});
