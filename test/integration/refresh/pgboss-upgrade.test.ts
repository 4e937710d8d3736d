/**
 * A database deployed before pg-boss 12 (schema 24, pg-boss 10) upgrades with `npm run migrate`:
 * its queued, retrying, deferred and active jobs and its schedules move to the new schema, a worker
 * starts on it, and every job runs exactly once more than it had, never twice. The later migration
 * that moves four queries onto one shared view (1796636290000) removes their views' queues, with
 * their jobs and schedules; the jobs of the view that stays run.
 */
import { expect } from 'chai';
import type { PgBoss } from 'pg-boss';
import { PGBOSS_SCHEMA, refreshQueue } from '../../../src/db/tables.ts';
import type { RefreshWorker } from '../../../src/refresh/worker.ts';
import { readdirSync } from 'node:fs';
import { runner } from 'node-pg-migrate';
import { migrateUp, MIGRATIONS_DIR, MIGRATIONS_TABLE } from '../../../src/db/migrate.ts';
import { VIEWS } from '../../../src/db/tables.ts';
import { createTestDatabase, migrateToBefore, type TestDatabase } from '../../helpers/database.ts';
import { finishedJob, observer, refreshLog, testWorker } from '../../helpers/refresh-worker.ts';

const UPGRADE = '1764000005000_pgboss-12';
/** The migrations that move four queries onto one shared view, and retire their views' queues. */
const SHARED = '1796636280929_query-job-facts';
const RETIRED = '1796636290000_retire-per-query-job-views';
const filesBefore = (name: string) => readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && f < name).length;
const OLD_VIEWS = { failedJobs: 'eventstats.mv_failed_jobs', aggregationByCatalog: 'eventstats.mv_aggregation_by_catalog', jobStatusTrend: 'eventstats.mv_job_status_trend' };
const OLD = 'pgboss_v10';


interface OldJob {
  readonly id: string;
  readonly queue: string;
  readonly state: 'created' | 'retry' | 'active' | 'completed';
  readonly retryCount: number;
  /** Seconds from now; negative: in the past. */
  readonly startAfter: number;
  readonly data: object;
}

// The queued and the retrying job are on the queue of the view that stays (run_status_summary): a
// stately queue holds one job per state, so they can share it; the others are on retired views' queues.
const queued: OldJob = { id: '00000000-0000-4000-8000-000000000001', queue: refreshQueue(VIEWS.runStatusSummary), state: 'created', retryCount: 0, startAfter: -60, data: { force: true } };
const retrying: OldJob = { id: '00000000-0000-4000-8000-000000000002', queue: refreshQueue(VIEWS.runStatusSummary), state: 'retry', retryCount: 1, startAfter: 1, data: {} };
const deferred: OldJob = { id: '00000000-0000-4000-8000-000000000003', queue: refreshQueue(OLD_VIEWS.jobStatusTrend), state: 'created', retryCount: 0, startAfter: 3600, data: {} };
const active: OldJob = { id: '00000000-0000-4000-8000-000000000004', queue: refreshQueue(OLD_VIEWS.aggregationByCatalog), state: 'active', retryCount: 0, startAfter: -120, data: {} };
const finished: OldJob = { id: '00000000-0000-4000-8000-000000000005', queue: refreshQueue(OLD_VIEWS.failedJobs), state: 'completed', retryCount: 0, startAfter: -7200, data: {} };
const UNFINISHED = [queued, retrying, deferred, active];

/** A row as pg-boss 10 wrote it: stately refresh queues, the view as singleton key. */
async function insertOldJob(db: TestDatabase, job: OldJob): Promise<void> {
  await db.pool.query(
    `INSERT INTO ${PGBOSS_SCHEMA}.job (id, name, data, state, retry_limit, retry_count, retry_delay, retry_backoff, start_after,
        started_on, singleton_key, expire_in, completed_on, policy)
     VALUES ($1, $2, $3, $4::text::${PGBOSS_SCHEMA}.job_state, 3, $5, 15, true, now() + make_interval(secs => $6),
        CASE WHEN $4::text IN ('active', 'completed') THEN now() - interval '10 seconds' END, $7, interval '720 seconds',
        CASE WHEN $4::text = 'completed' THEN now() END, 'stately')`,
    [job.id, job.queue, job.data, job.state, job.retryCount, job.startAfter, job.queue.replace(/^refresh\./, '')],
  );
}

describe('upgrading a pg-boss 10 database to pg-boss 12 with npm run migrate', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let boss: PgBoss | undefined;
  let worker: RefreshWorker | undefined;
  let oldSchedules: { name: string; cron: string; timezone: string }[];
  let oldQueues: string[];

  before(async () => {
    db = await createTestDatabase({ migrate: false });
    await migrateToBefore(db.url, UPGRADE);
    // What a pg-boss 10 worker left behind: its queue settings, its schedules and its jobs.
    await db.pool.query(`UPDATE ${PGBOSS_SCHEMA}.queue SET retry_limit = 3, retry_delay = 15, retry_backoff = true, expire_seconds = 720 WHERE name LIKE 'refresh.%'`);
    await db.pool.query(
      `INSERT INTO ${PGBOSS_SCHEMA}.schedule (name, cron, timezone, data, options)
       SELECT name, '*/5 * * * *', 'UTC', '{}', jsonb_build_object('tz', 'UTC', 'singletonKey', substr(name, 9)) FROM ${PGBOSS_SCHEMA}.queue WHERE name LIKE 'refresh.%'`,
    );
    for (const job of [...UNFINISHED, finished]) await insertOldJob(db, job);
    oldSchedules = (await db.pool.query(`SELECT name, cron, timezone FROM ${PGBOSS_SCHEMA}.schedule ORDER BY name`)).rows;
    oldQueues = (await db.pool.query(`SELECT name FROM ${PGBOSS_SCHEMA}.queue WHERE name LIKE 'refresh.%' ORDER BY name`)).rows.map((r) => r.name as string);
    // The later migrations (incremental maintenance, the queries' generated ones) follow it, up to the
    // shared view's; the worker's test below applies the rest.
    const applied = await runner({ databaseUrl: db.url, dir: MIGRATIONS_DIR, migrationsTable: MIGRATIONS_TABLE, direction: 'up', count: filesBefore(SHARED) - filesBefore(UPGRADE), checkOrder: true, log: () => {} });
    expect(applied[0]?.name).to.equal(UPGRADE);
  });

  after(async () => {
    await worker?.stop();
    await boss?.stop();
    await db?.drop();
  });

  it('moves every unfinished job with its id, state, retry count, data and start time', async () => {
    const { rows } = await db.pool.query(
      `SELECT id, name, state::text, retry_count, data, singleton_key, expire_seconds, policy, start_after > now() + interval '1 minute' AS later
         FROM ${PGBOSS_SCHEMA}.job ORDER BY id`,
    );
    expect(rows).to.deep.equal(
      UNFINISHED.map((j) => ({
        id: j.id,
        name: j.queue,
        state: j.state,
        retry_count: j.retryCount,
        data: j.data,
        singleton_key: j.queue.replace(/^refresh\./, ''),
        expire_seconds: 720,
        policy: 'stately',
        later: j === deferred,
      })),
    );
  });

  it('leaves only finished history in the old schema, so nothing can run there again', async () => {
    const { rows } = await db.pool.query(`SELECT id, state::text FROM ${OLD}.job ORDER BY id`);
    expect(rows).to.deep.equal([{ id: finished.id, state: 'completed' }]);
  });

  it('keeps every queue with its policy and retry settings, and every schedule', async () => {
    const queues = await db.pool.query(
      `SELECT name, policy, retry_limit, retry_delay, retry_backoff, expire_seconds FROM ${PGBOSS_SCHEMA}.queue WHERE name = ANY($1::text[]) ORDER BY name`,
      [oldQueues],
    );
    expect(queues.rows).to.have.length(4);
    for (const q of queues.rows) expect(q).to.include({ policy: 'stately', retry_limit: 3, retry_delay: 15, retry_backoff: true, expire_seconds: 720 });
    const schedules = await db.pool.query(`SELECT name, cron, timezone FROM ${PGBOSS_SCHEMA}.schedule ORDER BY name`);
    expect(schedules.rows).to.deep.equal(oldSchedules);
    boss = await observer(db.url);
    expect((await boss.getSchedules()).map((s) => [s.name, s.cron, s.options?.tz])).to.deep.equal(oldSchedules.map((s) => [s.name, s.cron, 'UTC']));
  });

  it('retires the queues of the views four queries no longer have, with their jobs and schedules', async () => {
    const applied = await migrateUp(db.url);
    expect(applied).to.include.members([SHARED, RETIRED]);
    const retired = Object.values(OLD_VIEWS).map(refreshQueue);
    const left = await db.pool.query(`SELECT name FROM ${PGBOSS_SCHEMA}.queue WHERE name = ANY($1::text[])`, [retired]);
    expect(left.rows).to.deep.equal([]);
    const jobs = await db.pool.query(`SELECT id FROM ${PGBOSS_SCHEMA}.job WHERE name = ANY($1::text[])`, [retired]);
    expect(jobs.rows).to.deep.equal([]);
    const schedules = await db.pool.query(`SELECT name FROM ${PGBOSS_SCHEMA}.schedule ORDER BY name`);
    expect(schedules.rows.map((r) => r.name)).to.deep.equal([refreshQueue(VIEWS.runStatusSummary)]);
  });

  it('lets a worker start and run each due job once: the queued job, then the retry as its second attempt', async () => {
    worker = testWorker(db.url);
    await worker.start();
    boss ??= await observer(db.url);
    const first = await finishedJob(boss, queued.queue, queued.id);
    const second = await finishedJob(boss, retrying.queue, retrying.id);
    expect([first.state, first.retryCount]).to.deep.equal(['completed', 0]);
    expect([second.state, second.retryCount]).to.deep.equal(['completed', 1]);
    // One cycle each: a job that ran twice would have logged three times.
    const outcomes = (await refreshLog(db.pool, VIEWS.runStatusSummary)).map((r) => r.outcome);
    expect(outcomes).to.have.length(2);
    expect(outcomes[0]).to.equal('refreshed');
  });
});
