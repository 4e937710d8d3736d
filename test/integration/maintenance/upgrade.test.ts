/**
 * A database deployed with the migrations before incremental maintenance, with data in it and its
 * views refreshed the old way, upgrades with `npm run migrate`: the old views keep answering while
 * the migrations run, every query is exact right after them (before any cycle: the new views hold
 * every fact), and the first cycle seals history and stays exact. The deleted-facts migration
 * undone leaves what it kept as days to re-aggregate; a query's second generated migration undone
 * rebuilds the query as its first one left it.
 */
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { runner } from 'node-pg-migrate';
import { MIGRATIONS_DIR, MIGRATIONS_TABLE, migrateUp } from '../../../src/db/migrate.ts';
import { TABLES } from '../../../src/db/tables.ts';
import { MAINTENANCE } from '../../../src/rollup/layout.ts';
import { registeredViews } from '../../../src/declarations/index.ts';
import { DAY_MS, HOUR_MS } from '../../../src/rollup/window.ts';
import { refreshViews } from '../../../src/refresh/refresh-view.ts';
import { seed } from '../../../src/seed/index.ts';
import { createTestDatabase, migrateToBefore, type TestDatabase } from '../../helpers/database.ts';
import { expectAllExact } from '../../helpers/exact.ts';
import { REFRESH_OPTIONS } from '../../helpers/fixtures.ts';

const FIRST = '1764000006000_incremental-maintenance';
const DELETED_FACTS_MIGRATION = '1796040000000_deleted-facts';
/** The last migration before the second generation of query migrations (stored column order, view bounded by the id watermark). */
const BEFORE_STORED_ORDER = '1796040100000_status-change-deltas-side-by-side';
const OLD_VIEWS = ['eventstats.mv_failed_jobs', 'eventstats.mv_aggregation_by_catalog', 'eventstats.mv_job_status_trend', 'eventstats.mv_run_status_summary'];
/** Dropped by 1796636290000: their queries read eventstats.mv_job_facts since. */
const RETIRED_VIEWS = OLD_VIEWS.slice(0, 3);
const windows = (now: number) => [
  { timestamp_start: now - 25 * DAY_MS, timestamp_end: now },
  { timestamp_start: now - 2 * HOUR_MS - 5_000, timestamp_end: now - 60_000 },
];

describe('upgrading a database deployed before incremental maintenance', function () {
  this.timeout(180_000);
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase({ migrate: false });
    await migrateToBefore(db.url, FIRST);
    await seed(db.pool, { runs: 800, days: 20, end: Date.now(), seed: 21 });
    for (const v of OLD_VIEWS) await db.pool.query(`REFRESH MATERIALIZED VIEW ${v}`);
  });
  after(async () => db?.drop());

  it('keeps the old views readable while it migrates, then answers exactly before any cycle', async () => {
    let reads = 0;
    let migrating = true;
    const readable = new Set(OLD_VIEWS);
    const reader = (async () => {
      while (migrating) {
        // What the previous API reads: the view by name, whatever it is at the moment, until the
        // migration that moves four queries onto one shared view drops theirs (the last one).
        for (const v of [...readable]) {
          await db.pool.query(`SELECT count(*) FROM ${v}`).catch((err: { code?: string }) => {
            if (err.code !== '42P01' || !RETIRED_VIEWS.includes(v)) throw err;
            readable.delete(v);
          });
        }
        reads++;
      }
    })();
    const applied = await migrateUp(db.url).finally(() => {
      migrating = false;
    });
    await reader;
    expect(applied[0]).to.equal(FIRST);
    expect(reads, 'rounds of reads of the old views during the migration').to.be.greaterThan(0);
    const { rows: left } = await db.pool.query(`SELECT 'eventstats.' || matviewname AS v FROM pg_matviews WHERE schemaname = 'eventstats' ORDER BY 1`);
    expect(left.map((r) => r.v as string)).to.deep.equal(registeredViews().map((v) => v.name).sort());
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM ${MAINTENANCE} WHERE sealed_to IS NULL`);
    expect(rows[0].n, 'nothing sealed yet').to.equal(registeredViews().length);
    await expectAllExact(db.pool, windows(Date.now()), Date.now());
  });

  it('seals history at the first cycle, and stays exact', async () => {
    const results = await refreshViews(db.pool, registeredViews(), REFRESH_OPTIONS);
    for (const r of results) {
      expect(r.outcome, r.error).to.equal('refreshed');
      expect(r.report?.rebuild, r.view).to.equal(true);
    }
    await expectAllExact(db.pool, windows(Date.now()), Date.now());
  });
});

describe('the deleted-facts and paired status-delta migrations, undone', function () {
  this.timeout(180_000);
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase();
    await seed(db.pool, { runs: 300, days: 10, end: Date.now(), seed: 5 });
    await refreshViews(db.pool, registeredViews(), REFRESH_OPTIONS);
  });
  after(async () => db?.drop());

  it('turn the facts kept into their days and the paired status changes into signed rows; migrated again, the next cycle is exact', async () => {
    // The query migrations after them, undone, rebuild each query as its previous one left it.
    const later = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && f > `${BEFORE_STORED_ORDER}.sql`).length;
    expect(later).to.be.greaterThan(0);
    await runner({ databaseUrl: db.url, dir: MIGRATIONS_DIR, migrationsTable: MIGRATIONS_TABLE, direction: 'down', count: later, log: () => {} });
    const bound = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_matviews WHERE definition LIKE '%id_watermark%'`);
    expect(bound.rows[0]!.n, 'no view bounded by the id watermark after the undo').to.equal(0);
    // No cycle runs on the undone layout: since issue 29's query migrations (1796624664796 on) the
    // views hold dimension columns the earlier generations lack, so today's code cannot read those
    // (it never has to: a deployment runs today's code on today's migrations). What is checked here
    // is what the undo leaves and that the redo rebuilds every query exactly.
    await db.pool.query(
      `DELETE FROM ${TABLES.runsJobs} WHERE internal_id IN (SELECT j.internal_id FROM ${TABLES.runsJobs} j JOIN ${TABLES.runs} r USING (event_id)
        WHERE r.timestamp_start < $1 ORDER BY j.internal_id LIMIT 3)`,
      [Date.now() - 3 * DAY_MS],
    );
    const kept = await db.pool.query<{ n: number }>('SELECT count(DISTINCT internal_id)::int AS n FROM eventstats.deleted_facts');
    expect(kept.rows[0]!.n).to.equal(3);
    await db.pool.query(
      `UPDATE ${TABLES.statusChange} SET status_type = 'KILLED', tenant_id = 'moved-by-test'
        WHERE job_id IN (SELECT job_id FROM ${TABLES.statusChange} WHERE created_at < now() - interval '2 days' ORDER BY job_id LIMIT 2)`,
    );

    const undo = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && f >= DELETED_FACTS_MIGRATION && f <= `${BEFORE_STORED_ORDER}.sql`).length;
    await runner({ databaseUrl: db.url, dir: MIGRATIONS_DIR, migrationsTable: MIGRATIONS_TABLE, direction: 'down', count: undo, log: () => {} });
    const signed = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM eventstats.status_change_deltas WHERE weight IN (-1, 1)');
    expect(signed.rows[0]!.n, 'two signed rows per changed status row').to.equal(4);
    const days = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM eventstats.invalidations`);
    expect(days.rows[0]!.n, 'the kept facts as days, per view').to.be.greaterThan(0);
    expect((await db.pool.query(`SELECT to_regclass('eventstats.deleted_facts') AS t`)).rows[0].t).to.equal(null);

    const redo = (count: number) =>
      runner({ databaseUrl: db.url, dir: MIGRATIONS_DIR, migrationsTable: MIGRATIONS_TABLE, direction: 'up', count, checkOrder: true, log: () => {} });
    expect((await redo(undo))[0]!.name).to.equal(DELETED_FACTS_MIGRATION);

    // And the query migrations again: each rebuilds its query once.
    expect(await migrateUp(db.url)).to.have.length(later);
    for (const r of await refreshViews(db.pool, registeredViews(), REFRESH_OPTIONS)) expect(r.report?.rebuild, r.view).to.equal(true);
    await expectAllExact(db.pool, windows(Date.now()), Date.now());
  });
});
