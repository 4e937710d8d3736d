/**
 * Incremental maintenance against the oracle: after every cycle each query equals the aggregation
 * over everything committed, whatever arrived late, out of order, changed in place or was deleted.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { TABLES } from '../../../src/db/tables.ts';
import { MAINTENANCE, relationsOf } from '../../../src/rollup/layout.ts';
import { registeredViews } from '../../../src/declarations/index.ts';
import { DAY_MS, floorTo, HOUR_MS, MINUTE_MS } from '../../../src/rollup/window.ts';
import { refreshView, refreshViews, type RefreshOptions, type RefreshResult } from '../../../src/refresh/refresh-view.ts';
import { seed } from '../../../src/seed/index.ts';
import { compareAll, expectAllExact, type Window } from '../../helpers/exact.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { REFRESH_OPTIONS } from '../../helpers/fixtures.ts';
import { insertJobs, insertRun, upsertStatus } from './writes.ts';

const run = promisify(execFile);

const windowsAt = (now: number): Window[] => [
  { timestamp_start: now - 40 * DAY_MS, timestamp_end: now + HOUR_MS },
  { timestamp_start: now - 3 * HOUR_MS - 12_345, timestamp_end: now },
  { timestamp_start: now - 6 * DAY_MS - 17 * 60_000, timestamp_end: now - 2 * DAY_MS + 5_000 },
];

async function refreshAll(db: TestDatabase, options: Partial<RefreshOptions> = {}): Promise<RefreshResult[]> {
  const results = await refreshViews(db.pool, registeredViews(), { ...REFRESH_OPTIONS, ...options });
  for (const r of results) expect(r.outcome, `${r.view}: ${r.error ?? ''}`).to.be.oneOf(['refreshed', 'skipped']);
  return results;
}

const exact = (db: TestDatabase) => expectAllExact(db.pool, windowsAt(Date.now()), Date.now());
const byView = (results: RefreshResult[], view: string) => results.find((r) => r.view === view)!;
const FAILED = 'eventstats.mv_job_facts';
const SUMMARY = 'eventstats.mv_run_status_summary';

describe('incremental maintenance', function () {
  this.timeout(180_000);
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase();
    // Data up to the real now: the view keeps the last hour or two, history the rest.
    await seed(db.pool, { runs: 600, days: 20, end: Date.now(), seed: 11 });
    await refreshAll(db);
  });
  after(async () => db?.drop());

  it('seals every fact before the previous minute into history and keeps the rest in the view', async () => {
    const sealedTo = floorTo(Date.now(), MINUTE_MS) - MINUTE_MS;
    for (const v of registeredViews()) {
      const { rows } = await db.pool.query(`SELECT sealed_to::float8 AS s FROM ${MAINTENANCE} WHERE view_name = $1`, [v.name]);
      // A minute may have turned since the cycle.
      expect(rows[0].s, v.name).to.be.within(sealedTo - 2 * MINUTE_MS, sealedTo);
      const { history } = relationsOf(v.spec);
      // Minutes are sealed whole; an hour or day row may hold the sealed part of the hour or day that is still open.
      const h = await db.pool.query(`SELECT count(*)::int AS n, max(bucket + grain_ms)::float8 AS last FROM ${history} WHERE grain_ms = ${MINUTE_MS}`);
      expect(h.rows[0].n, `${history} holds the sealed buckets`).to.be.greaterThan(0);
      expect(h.rows[0].last, `${history} holds nothing at or after sealed_to`).to.be.at.most(rows[0].s);
      const m = await db.pool.query(`SELECT count(*)::int AS n FROM ${v.name} WHERE grain_ms = ${MINUTE_MS} AND bucket < $1`, [rows[0].s]);
      expect(m.rows[0].n, `${v.name} holds nothing before sealed_to`).to.equal(0);
    }
    await exact(db);
  });

  it('adds late runs (days back, into sealed buckets) as deltas, without a rebuild', async () => {
    const now = Date.now();
    for (const days of [1, 3, 9, 30]) await insertRun(db.pool, { ts: now - days * DAY_MS + 12_345, jobs: 4 });
    await insertRun(db.pool, { ts: now - 2 * 60_000, jobs: 2 });
    const results = await refreshAll(db);
    const r = byView(results, FAILED);
    expect(r.outcome).to.equal('refreshed');
    expect(r.report?.rebuild).to.equal(false);
    expect(r.report?.deltaRows, 'history rows the late jobs changed').to.be.greaterThan(0);
    await exact(db);
  });

  it('counts jobs committed after their run, and jobs whose run arrives later (orphans)', async () => {
    const now = Date.now();
    const early = await insertRun(db.pool, { ts: now - 4 * DAY_MS, jobs: 0 });
    await refreshAll(db);
    await insertJobs(db.pool, early, now - 4 * DAY_MS, 5);
    await insertJobs(db.pool, 'run-not-yet-here', now - 5 * DAY_MS, 3);
    let r = byView(await refreshAll(db), FAILED);
    expect(r.report?.orphans, 'jobs waiting for their run').to.equal(3);
    await exact(db);
    await insertRun(db.pool, { ts: now - 5 * DAY_MS - 999, jobs: 0 }, 'run-not-yet-here');
    r = byView(await refreshAll(db), FAILED);
    expect(r.report?.orphans).to.equal(0);
    await exact(db);
  });

  it('counts a writer transaction that took its ids before a cycle and commits after it, without the cycle waiting for it', async () => {
    const now = Date.now();
    const slow = new pg.Client({ connectionString: db.url });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      await insertRun(slow, { ts: now - 6 * DAY_MS, jobs: 4 });
      // A later writer commits first: its ids are higher.
      await insertRun(db.pool, { ts: now - 6 * DAY_MS + 1, jobs: 2 });
      const r = await refreshView(db.pool, registeredViews().find((v) => v.name === FAILED)!, { ...REFRESH_OPTIONS, holderWaitMs: 0 });
      // The cycle took no lock and did not wait: it absorbed the later writer and held the open one's ids back.
      expect(r.outcome).to.equal('refreshed');
      expect(r.report?.heldBack, 'the open writer’s ids').to.be.at.least(4);
      await slow.query('COMMIT');
    } finally {
      await slow.end();
    }
    const r = byView(await refreshAll(db), FAILED);
    expect(r.report?.heldBack).to.equal(0);
    await exact(db);
  });

  it('applies status upserts that change status and dimensions of old rows, and deletes', async () => {
    const now = Date.now();
    const { rows } = await db.pool.query<{ job_id: string; created: number }>(
      `SELECT job_id, (extract(epoch FROM created_at) * 1000)::float8 AS created FROM ${TABLES.statusChange}
        WHERE created_at < now() - interval '10 days' ORDER BY job_id LIMIT 30`,
    );
    // Status and last_updated_at change; some rows also move to another tenant.
    await upsertStatus(db.pool, rows.slice(0, 20).map((r, i) => ({ jobId: r.job_id, createdAt: r.created, status: i % 2 ? 'FAILED' : null, tenant: i % 3 ? null : 'late-tenant-moved' })));
    // New rows created days back (late inserts), and one delete.
    await upsertStatus(db.pool, [1, 2, 3].map((d) => ({ jobId: crypto.randomUUID(), createdAt: now - d * DAY_MS, status: 'KILLED', tenant: 'late-tenant' })));
    await db.pool.query(`DELETE FROM ${TABLES.statusChange} WHERE job_id = $1`, [rows[25]!.job_id]);
    const r = byView(await refreshAll(db), SUMMARY);
    expect(r.report?.rebuild).to.equal(false);
    expect(r.report?.deltaRows).to.be.greaterThan(0);
    await exact(db);
  });

  it('records nothing for an upsert that changes nothing a view reads', async () => {
    const { rows } = await db.pool.query(
      `SELECT job_id, (extract(epoch FROM created_at) * 1000)::float8 AS created, status_type, tenant_id FROM ${TABLES.statusChange} WHERE created_at IS NOT NULL LIMIT 1`,
    );
    const row = rows[0];
    await db.pool.query(`UPDATE ${TABLES.statusChange} SET last_updated_at = now(), status_detail = 'touched' WHERE job_id = $1`, [row.job_id]);
    const { rows: deltas } = await db.pool.query(`SELECT count(*)::int AS n FROM eventstats.status_change_deltas`);
    expect(deltas[0].n).to.equal(0);
  });

  it('re-aggregates the days of a delete past the deleted-facts limit (retention)', async () => {
    const cut = Date.now() - 15 * DAY_MS;
    const client = await db.pool.connect();
    try {
      // The limit is a setting; the default (1000) is more than this small database's days hold.
      await client.query('SET eventstats.deleted_facts_limit = 10');
      await client.query(`DELETE FROM ${TABLES.runsJobs} j USING ${TABLES.runs} r WHERE r.event_id = j.event_id AND r.timestamp_start < $1`, [cut]);
      await client.query(`DELETE FROM ${TABLES.runs} WHERE timestamp_start < $1`, [cut]);
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM eventstats.deleted_facts');
      expect(rows[0]!.n, 'no fact kept past the limit').to.equal(0);
    } finally {
      await client.query('RESET eventstats.deleted_facts_limit');
      client.release();
    }
    const r = byView(await refreshAll(db), FAILED);
    expect(r.report?.recomputedDays).to.be.greaterThan(0);
    await exact(db);
  });

  it('recomputes only the buckets of a small delete of jobs, without re-aggregating their days', async () => {
    await db.pool.query(
      `DELETE FROM ${TABLES.runsJobs} WHERE internal_id IN (SELECT j.internal_id FROM ${TABLES.runsJobs} j JOIN ${TABLES.runs} r USING (event_id)
        WHERE r.timestamp_start BETWEEN $1 AND $2 ORDER BY j.internal_id LIMIT 7)`,
      [Date.now() - 3 * DAY_MS, Date.now() - 2 * DAY_MS],
    );
    const results = await refreshAll(db);
    for (const v of registeredViews().filter((x) => x.spec.facts.source === 'runs')) {
      const report = byView(results, v.name).report;
      expect(report?.recomputedDays, v.name).to.equal(0);
      expect(report?.deletedFacts, v.name).to.equal(7);
    }
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM eventstats.deleted_facts');
    expect(rows[0]!.n, 'applied facts are forgotten').to.equal(0);
    await exact(db);
  });

  it('stays exact when a run is deleted with its jobs in one statement, or deleted and inserted again, or at once with its job by another transaction', async () => {
    const pick = async (daysAgo: number) =>
      (
        await db.pool.query<{ event_id: string }>(
          `SELECT r.event_id FROM ${TABLES.runs} r WHERE r.timestamp_start BETWEEN $1 AND $2
              AND EXISTS (SELECT 1 FROM ${TABLES.runsJobs} j WHERE j.event_id = r.event_id) ORDER BY r.event_id LIMIT 1`,
          [Date.now() - daysAgo * DAY_MS, Date.now() - (daysAgo - 1) * DAY_MS],
        )
      ).rows[0]!.event_id;
    // One statement: each table's trigger finds the other's rows gone.
    const one = await pick(4);
    await db.pool.query(
      `WITH j AS (DELETE FROM ${TABLES.runsJobs} WHERE event_id = $1 RETURNING 1) DELETE FROM ${TABLES.runs} WHERE event_id = $1`,
      [one],
    );
    // Deleted and inserted again (a repair): its jobs count again.
    const again = await pick(5);
    await db.pool.query(
      `WITH r AS (DELETE FROM ${TABLES.runs} WHERE event_id = $1 RETURNING *) INSERT INTO ${TABLES.runs} SELECT * FROM r`,
      [again],
    );
    await db.pool.query(`DELETE FROM ${TABLES.runsJobs} WHERE internal_id = (SELECT min(internal_id) FROM ${TABLES.runsJobs} WHERE event_id = $1)`, [again]);
    // A run and its job deleted by two transactions at once: each trigger still sees the other's row.
    const both = await pick(6);
    const a = await db.pool.connect();
    const b = await db.pool.connect();
    try {
      await a.query('BEGIN');
      await b.query('BEGIN');
      await a.query(`DELETE FROM ${TABLES.runs} WHERE event_id = $1`, [both]);
      await b.query(`DELETE FROM ${TABLES.runsJobs} WHERE internal_id = (SELECT min(internal_id) FROM ${TABLES.runsJobs} WHERE event_id = $1)`, [both]);
      await a.query('COMMIT');
      await b.query('COMMIT');
    } finally {
      a.release();
      b.release();
    }
    await refreshAll(db);
    await exact(db);
  });

  it('rebuilds after a TRUNCATE and reload', async () => {
    const client = await db.pool.connect();
    try {
      await client.query(`CREATE TEMP TABLE runs_copy AS SELECT * FROM ${TABLES.runs}`);
      await client.query(`CREATE TEMP TABLE jobs_copy AS SELECT * FROM ${TABLES.runsJobs}`);
      await client.query(`TRUNCATE ${TABLES.runs}, ${TABLES.runsJobs}`);
      await client.query(`INSERT INTO ${TABLES.runs} SELECT * FROM runs_copy WHERE timestamp_start > $1`, [Date.now() - 10 * DAY_MS]);
      await client.query(`INSERT INTO ${TABLES.runsJobs} (event_id, country, catalog_id, status, timestamp_start, timestamp_end) SELECT event_id, country, catalog_id, status, timestamp_start, timestamp_end FROM jobs_copy`);
    } finally {
      client.release();
    }
    const r = byView(await refreshAll(db), FAILED);
    expect(r.report?.rebuild).to.equal(true);
    await exact(db);
  });

  it('npm run refresh -- --rebuild recomputes history and view to the same buckets', async () => {
    const view = registeredViews().find((v) => v.name === FAILED)!;
    const { buckets } = relationsOf(view.spec);
    // A minute may close between the two, moving its facts from the view into history: compare
    // what reads see, every bucket combined over both.
    const rows = async () =>
      (
        await db.pool.query(
          `SELECT lvl, grain_ms, bucket, null_mask, tenant_id, source_app, environment,
                  sum(job_count)::float8 AS job_count, sum(failed_count)::float8 AS failed_count, max(last_failure_at)::float8 AS last_failure_at
             FROM ${buckets} GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7`,
        )
      ).rows;
    const before = await rows();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/refresh.ts', '--rebuild', 'failed_jobs'], {
      env: { ...process.env, DATABASE_URL: db.url },
    });
    expect(stdout).to.match(/^eventstats\.mv_job_facts: refreshed in \d+ ms\n$/);
    const { rows: log } = await db.pool.query(`SELECT detail FROM ${TABLES.refreshLog} WHERE view_name = $1 ORDER BY id DESC LIMIT 1`, [FAILED]);
    expect(log[0].detail.rebuild).to.equal(true);
    const after = await rows();
    expect(after.length).to.be.greaterThan(1000);
    expect(after).to.deep.equal(before);
  });

  it('a cycle killed mid-way (its session terminated) leaves history and view as they were; the next one is exact', async () => {
    const view = registeredViews().find((v) => v.name === FAILED)!;
    const { history } = relationsOf(view.spec);
    await insertRun(db.pool, { ts: Date.now() - 2 * DAY_MS, jobs: 6 });
    const blocker = await db.pool.connect();
    try {
      // Readers go on (ACCESS SHARE); the cycle's writes to history wait.
      await blocker.query('BEGIN');
      await blocker.query(`LOCK TABLE ${history} IN SHARE MODE`);
      const cycle = refreshView(db.pool, view, REFRESH_OPTIONS).catch((err: unknown) => err);
      let pid = 0;
      // The race happened: this database's cycle waits for this history table (a relation oid of
      // another test database on the shared server could have the same number).
      await waitFor(async () => {
        const { rows } = await db.pool.query(
          `SELECT pid FROM pg_locks WHERE NOT granted AND relation = $1::regclass AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
          [history],
        );
        pid = rows[0]?.pid ?? 0;
        return pid > 0;
      });
      await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      // The failure it provoked is the one expected: the killed cycle failed, it did not finish.
      const killed = await cycle;
      expect(killed instanceof Error || (killed as { outcome?: string }).outcome === 'failed', `the killed cycle: ${String((killed as { error?: string }).error ?? killed)}`).to.equal(true);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    await refreshAll(db);
    await exact(db);
  });

  it('two workers and the CLI cycling at once never count a fact twice', async () => {
    const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: db.url, max: 2 }));
    try {
      for (let round = 0; round < 5; round++) {
        await insertRun(db.pool, { ts: Date.now() - (round + 1) * 7 * HOUR_MS, jobs: 3 });
        await upsertStatus(db.pool, [{ jobId: crypto.randomUUID(), createdAt: Date.now() - (round + 2) * DAY_MS, status: 'RUNNING', tenant: 'late-tenant' }]);
        const results = (await Promise.all(pools.map((p) => refreshViews(p, registeredViews(), REFRESH_OPTIONS)))).flat();
        for (const r of results) expect(r.outcome, r.error).to.be.oneOf(['refreshed', 'skipped', 'coalesced']);
      }
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
    await refreshAll(db);
    await exact(db);
  });
});

describe('the naive max-id watermark (what holding back ids prevents)', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    await seed(db.pool, { runs: 200, days: 10, end: Date.now(), seed: 5 });
    await refreshAll(db);
  });
  after(async () => db?.drop());

  it('loses a transaction that commits out of id order; a rebuild recovers it', async () => {
    const slow = new pg.Client({ connectionString: db.url });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      await insertRun(slow, { ts: Date.now() - 3 * DAY_MS, jobs: 5 });
      await insertRun(db.pool, { ts: Date.now() - 3 * DAY_MS, jobs: 1 });
      // It takes the highest committed id and holds nothing back.
      await refreshAll(db, { naiveWatermark: true });
      await slow.query('COMMIT');
    } finally {
      await slow.end();
    }
    await refreshAll(db, { naiveWatermark: true });
    const differing = (await compareAll(db.pool, windowsAt(Date.now()), Date.now())).filter((c) => JSON.stringify(c.actual) !== JSON.stringify(c.expected));
    expect(differing.length, 'answers that miss the late committer').to.be.greaterThan(0);
    await refreshAll(db, { rebuild: true });
    await exact(db);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000, what = "this database's cycle to wait for a lock on the history table"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
