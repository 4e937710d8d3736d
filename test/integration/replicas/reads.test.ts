/**
 * Reads from real streaming replicas (test/helpers/replica.ts) through src/db/read-targets.ts:
 * exact as of the snapshot that answered, also while a replica lags and between replicas at
 * different versions; the real-time tail's stable id across a writer at work on the primary;
 * recovery conflicts; a replica that is down.
 */
import { expect } from 'chai';
import pg from 'pg';
import { createExecutor, type Executor } from '../../../src/db/executor.ts';
import { PREPARED_PER_CONNECTION } from '../../../src/db/prepared.ts';

/** As the API's executors: request shapes' statements named, planned once, bounded per connection. */
const API = { retryAfterSeconds: 1, preparedMax: PREPARED_PER_CONNECTION };
import { migrateUp } from '../../../src/db/migrate.ts';
import { createPool } from '../../../src/db/pool.ts';
import { ReadTargets, type ReadTargetsOptions } from '../../../src/db/read-targets.ts';
import { DatabaseUnavailableError } from '../../../src/core/errors.ts';
import { registeredViews } from '../../../src/declarations/index.ts';
import { PartsCache } from '../../../src/read/parts-cache.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../../src/rollup/window.ts';
import { refreshViews } from '../../../src/refresh/refresh-view.ts';
import { seed } from '../../../src/seed/index.ts';
import { compareAll, expectSameRows, type Window } from '../../helpers/exact.ts';
import { REFRESH_OPTIONS } from '../../helpers/fixtures.ts';
import { startPrimary, startReplica, type Primary, type Replica } from '../../helpers/replica.ts';
import { insertRun } from '../maintenance/writes.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const windowsAt = (now: number): Window[] => [
  { timestamp_start: now - 25 * DAY_MS, timestamp_end: now + HOUR_MS },
  { timestamp_start: now - 6 * DAY_MS - 17 * 60_000, timestamp_end: now - 2 * DAY_MS + 5_000 },
];
const OPTIONS: ReadTargetsOptions = { maxLagMs: 600_000, lagFallback: 'none', failover: 'primary', retryMs: 600_000, retryAfterSeconds: 1 };

describe('reads from streaming replicas', function () {
  this.timeout(300_000);
  let primary: Primary;
  let pool: pg.Pool;
  let primaryReads: pg.Pool;
  const replicas: Replica[] = [];
  const replicaPools: pg.Pool[] = [];
  const readPool = (url: string) => createPool({ connectionString: url, max: 4, statementTimeoutMs: 20_000, connectTimeoutMs: 2_000, readOnly: true, applicationName: 'replica-test' });

  const refreshAll = async () => {
    for (const r of await refreshViews(pool, registeredViews(), REFRESH_OPTIONS)) expect(r.outcome, `${r.view}: ${r.error ?? ''}`).to.be.oneOf(['refreshed', 'skipped']);
  };
  /** Writes in every way a cycle absorbs, then a cycle. */
  const writesAndCycle = async (tag: string) => {
    const now = Date.now();
    await insertRun(pool, { ts: now - 5 * MINUTE_MS, jobs: 3, tenant: `tenant-0${tag}` });
    await insertRun(pool, { ts: now - 4 * DAY_MS - 1234, jobs: 2, tenant: 'late-tenant' });
    await refreshAll();
    await insertRun(pool, { ts: now - 3 * HOUR_MS, jobs: 4, tenant: `tenant-0${tag}`, env: 'uat' });
  };
  const targetsOf = (indexes: number[], options: Partial<ReadTargetsOptions> = {}) =>
    new ReadTargets(
      createExecutor(primaryReads, API),
      indexes.map((i) => ({ name: `replica ${i + 1}`, executor: createExecutor(replicaPools[i]!, API) })),
      { ...OPTIONS, ...options },
    );
  /** Every query shape over the windows, each answer against the oracle on the database that answered it. */
  const expectExactOn = async (targets: ReadTargets, cache: PartsCache, context: string) => {
    const session = await targets.session();
    // A session is pinned to the database its first statement reached (a replica found down fails over
    // then), so the oracle runs where the answers come from only once that statement has run.
    await session.query({ text: 'SELECT 1', values: [] });
    const origin = session.origin!();
    const oraclePool = origin.database === 'primary' ? pool : replicaPools[Number(origin.name.split(' ')[1]) - 1]!;
    for (const c of await compareAll(oraclePool, windowsAt(Date.now()), Date.now(), { executor: session, cache, realtime: true })) {
      expectSameRows(c.actual, c.expected, { ...c.context, context, answered: origin.name });
      expect(c.meta.database, context).to.equal(origin.database);
    }
    return origin;
  };

  before(async () => {
    primary = await startPrimary();
    await migrateUp(primary.url);
    pool = new pg.Pool({ connectionString: primary.url, max: 6 });
    primaryReads = readPool(primary.url);
    await seed(pool, { runs: 400, days: 20, end: Date.now(), seed: 23 });
    await refreshAll();
    for (let i = 0; i < 2; i++) {
      replicas.push(await startReplica(primary));
      replicaPools.push(readPool(replicas[i]!.url));
    }
  });

  after(async () => {
    await Promise.all([...replicaPools, primaryReads, pool].filter(Boolean).map((p) => p.end().catch(() => {})));
    for (const r of replicas) await r.stop();
    await primary?.stop();
  });

  it('answers from the replica exactly as its snapshot holds, while replay is paused behind cycles and after it resumes', async () => {
    const targets = targetsOf([0]);
    for (const ttl of [0, 600_000]) {
      const cache = new PartsCache({ stateTtlMs: ttl });
      await replicas[0]!.waitForReplay();
      expect((await expectExactOn(targets, cache, `ttl ${ttl}: caught up`)).database).to.equal('replica');
      await replicas[0]!.pauseReplay();
      try {
        // The primary moves on by two cycles and more writes; the replica stands still.
        await writesAndCycle('1');
        await expectExactOn(targets, cache, `ttl ${ttl}: paused, one cycle behind`);
        await writesAndCycle('2');
        await expectExactOn(targets, cache, `ttl ${ttl}: paused, two cycles behind`);
      } finally {
        await replicas[0]!.resumeReplay();
      }
      await replicas[0]!.waitForReplay();
      // Versions move forward under the parts the cache holds from the older ones.
      await expectExactOn(targets, cache, `ttl ${ttl}: resumed`);
      await expectExactOn(targets, cache, `ttl ${ttl}: resumed, cached`);
    }
  });

  it('keeps replicas at different versions apart, round-robin through one parts cache', async () => {
    const targets = targetsOf([0, 1]);
    const cache = new PartsCache({ stateTtlMs: 600_000 });
    await Promise.all(replicas.map((r) => r.waitForReplay()));
    await replicas[0]!.pauseReplay();
    const answered = new Set<string>();
    try {
      for (let round = 0; round < 2; round++) {
        await writesAndCycle(String(3 + round));
        await replicas[1]!.waitForReplay();
        // replica 1 is behind (and behind what this cache saw from replica 2), replica 2 is at the primary's version.
        for (let i = 0; i < 4; i++) answered.add((await expectExactOn(targets, cache, `round ${round}, read ${i}`)).name);
      }
    } finally {
      await replicas[0]!.resumeReplay();
    }
    await replicas[0]!.waitForReplay();
    for (let i = 0; i < 2; i++) await expectExactOn(targets, cache, `caught up, read ${i}`);
    expect([...answered].sort()).to.deep.equal(['replica 1', 'replica 2']);
  });

  it('caches a real-time tail on a replica only below what a writer still at work on the primary holds', async () => {
    const targets = targetsOf([0]);
    await refreshAll();
    await replicas[0]!.waitForReplay();
    const cache = new PartsCache({ stateTtlMs: 600_000 });
    const writer = await pool.connect();
    try {
      // It draws its ids first and commits last; others commit meanwhile.
      await writer.query('BEGIN');
      await insertRun(writer, { ts: Date.now() - 50 * MINUTE_MS, jobs: 5, tenant: 'tenant-06' });
      for (let i = 0; i < 4; i++) {
        await insertRun(pool, { ts: Date.now() - 40 * MINUTE_MS, jobs: 2, tenant: 'tenant-07' });
        await replicas[0]!.waitForReplay();
        await expectExactOn(targets, cache, `writer at work, read ${i}`);
        await sleep(250); // past the probe interval: the stable id may move
      }
      await writer.query('COMMIT');
    } finally {
      await writer.query('ROLLBACK').catch(() => {}); // a failed read must not leave the transaction open in the pool
      writer.release();
    }
    await replicas[0]!.waitForReplay();
    for (let i = 0; i < 3; i++) {
      await expectExactOn(targets, cache, `committed, read ${i}`);
      await sleep(250);
    }
  });

  it('runs a read cancelled by a conflict with recovery once more, then answers 503 database', async () => {
    const strict = await startReplica(primary, { maxStandbyStreamingDelayMs: 0, hotStandbyFeedback: false });
    const strictPool = readPool(strict.url);
    const targets = new ReadTargets(createExecutor(primaryReads, API), [{ name: 'replica 1', executor: createExecutor(strictPool, API) }], OPTIONS);
    await pool.query('CREATE TABLE IF NOT EXISTS eventstats_conflict (n int)');
    await pool.query('INSERT INTO eventstats_conflict VALUES (1)');
    await strict.waitForReplay();
    const slow = { text: 'SELECT count(*)::int AS n FROM eventstats_conflict CROSS JOIN pg_sleep($1::float8)', values: [1.5] };
    const conflicts = async () =>
      Number((await strictPool.query('SELECT confl_lock FROM pg_stat_database_conflicts WHERE datname = current_database()')).rows[0].confl_lock);
    /** Takes ACCESS EXCLUSIVE on what the standby reads, `times` times, each once the standby reads it. */
    const lockWhileRead = async (times: number) => {
      for (let i = 0; i < times; i++) {
        for (;;) {
          const { rows } = await strictPool.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%eventstats_conflict CROSS JOIN pg_sleep%' AND pid <> pg_backend_pid()",
          );
          if (rows[0].n > 0) break;
          await sleep(20);
        }
        await pool.query('BEGIN; LOCK TABLE eventstats_conflict IN ACCESS EXCLUSIVE MODE; COMMIT');
        await sleep(300);
      }
    };
    try {
      const before = await conflicts();
      const [rows] = await Promise.all([(await targets.session()).query<{ n: number }>(slow), lockWhileRead(1)]);
      expect(rows).to.deep.equal([{ n: 1 }]);
      expect(await conflicts(), 'the first try was cancelled by replay').to.equal(before + 1);
      const [err] = await Promise.all([
        (await targets.session()).query(slow).then(() => undefined, (e: unknown) => e),
        lockWhileRead(2),
      ]);
      expect(err).to.be.instanceOf(DatabaseUnavailableError);
      expect((err as DatabaseUnavailableError).status).to.equal(503);
      expect((err as DatabaseUnavailableError).retryAfterSeconds).to.equal(1);
      expect(await conflicts()).to.equal(before + 3);
    } finally {
      await strictPool.end();
      await strict.stop();
      await pool.query('DROP TABLE IF EXISTS eventstats_conflict');
    }
  });

  it('fails over from a replica that is down, and tries it again only after the backoff', async () => {
    const replica = replicas[1]!;
    const patient = targetsOf([1], { retryMs: 600_000 });
    const quick = targetsOf([1], { retryMs: 200 });
    const none = targetsOf([1], { failover: 'none' });
    const cache = new PartsCache({ stateTtlMs: 0 });
    expect((await expectExactOn(patient, cache, 'up')).database).to.equal('replica');
    await replica.halt();
    try {
      expect((await expectExactOn(patient, cache, 'down')).database, 'to the primary').to.equal('primary');
      expect((await expectExactOn(quick, cache, 'down')).database).to.equal('primary');
      const err = await none
        .session()
        .then((session) => session.query({ text: 'SELECT 1', values: [] }))
        .then(() => undefined, (e: unknown) => e);
      expect(err, 'REPLICA_FAILOVER=none').to.be.instanceOf(DatabaseUnavailableError);
      expect((await patient.status()).replicas[0]!.status).to.equal('down');
    } finally {
      await replica.restart();
    }
    expect((await patient.session()).origin!().database, 'not retried before the backoff').to.equal('primary');
    await sleep(300);
    expect((await expectExactOn(quick, cache, 'back')).database, 'retried after the backoff').to.equal('replica');
  });

  it('reports a lagging replica and, with the lag fallback, reads from the primary until it catches up', async () => {
    const targets = targetsOf([0], { maxLagMs: 0, lagFallback: 'primary', lagIntervalMs: 0 });
    const exec = (ex: Executor) => ex.query({ text: 'SELECT 1', values: [] });
    await replicas[0]!.waitForReplay();
    await replicas[0]!.pauseReplay();
    try {
      await writesAndCycle('8');
      await sleep(50);
      const status = await targets.status();
      expect(status.ok).to.equal(false);
      expect(status.replicas[0]!.status).to.equal('lagging');
      expect(status.replicas[0]!.lag_ms).to.be.greaterThan(0);
      const session = await targets.session();
      await exec(session);
      expect(session.origin!().database).to.equal('primary');
    } finally {
      await replicas[0]!.resumeReplay();
    }
    await replicas[0]!.waitForReplay();
    const session = await targets.session();
    await exec(session);
    expect(session.origin!().database).to.equal('replica');
    expect((await targets.status()).replicas[0]!.status).to.equal('ok');
  });
});
