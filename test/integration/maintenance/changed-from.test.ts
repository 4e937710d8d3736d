/**
 * The promise an API process keeps segments across versions on (src/rollup/changed.ts): every
 * bucket whose rows in `<q>_buckets` differ after a cycle lies at or after the cycle's `changedFrom`
 * for its grain. Checked on the real views for every kind of change a cycle absorbs.
 */
import { expect } from 'chai';
import { TABLES } from '../../../src/db/tables.ts';
import type { ChangedFrom } from '../../../src/rollup/changed.ts';
import { FINE_DAYS } from '../../../src/rollup/layout.ts';
import { recentGrains } from '../../../src/maintenance/aggregate.ts';
import { MAINTENANCE, relationsOf } from '../../../src/rollup/layout.ts';
import { PartsCache } from '../../../src/read/parts-cache.ts';
import { registeredViews } from '../../../src/declarations/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../../src/rollup/window.ts';
import { refreshViews, type RefreshResult } from '../../../src/refresh/refresh-view.ts';
import { seed } from '../../../src/seed/index.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { expectAllExact } from '../../helpers/exact.ts';
import { REFRESH_OPTIONS } from '../../helpers/fixtures.ts';
import { insertRun, upsertStatus } from './writes.ts';

interface BucketRow {
  readonly lvl: number;
  readonly g: number;
  readonly b: number;
  readonly r: string;
}

/** Every row of each view's buckets union, as text, with its level, grain and bucket. */
async function snapshot(db: TestDatabase): Promise<Map<string, BucketRow[]>> {
  const out = new Map<string, BucketRow[]>();
  for (const v of registeredViews()) {
    const { buckets } = relationsOf(v.spec);
    const { rows } = await db.pool.query<BucketRow>(`SELECT lvl, grain_ms::float8 AS g, bucket::float8 AS b, t::text AS r FROM ${buckets} t`);
    out.set(v.name, rows);
  }
  return out;
}

/**
 * A view's rows that a reader of the version after a cycle may read, by (grain, bucket). Rows of a
 * recent-tier grain before the tier's new start (`fineFrom`) are left out: a cycle that moves the
 * tier deletes them, their facts stay in the coarser grains, and a version's coverage keeps every
 * plan off them (src/maintenance/cycle.ts), so changedFrom need not, and does not, count them. (A
 * cycle whose newest fact crosses a UTC midnight moves the tier a day on: this made the test fail
 * when run just after one.)
 */
function readable(view: string, rows: readonly BucketRow[], fineFrom: number): Map<string, string> {
  const spec = registeredViews().find((v) => v.name === view)!.spec;
  const recent = new Set(recentGrains(spec).map((g) => `${g.lvl}:${g.grainMs}`));
  const out = new Map<string, string[]>();
  for (const row of rows) {
    if (row.b < fineFrom && recent.has(`${row.lvl}:${row.g}`)) continue;
    const key = `${row.g}:${row.b}`;
    out.set(key, [...(out.get(key) ?? []), row.r]);
  }
  return new Map([...out].map(([k, v]) => [k, v.sort().join('|')]));
}

/** The (grain, bucket) keys whose rows differ between two snapshots of a view. */
function differing(a: Map<string, string>, b: Map<string, string>): [number, number][] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).map((k) => k.split(':').map(Number) as [number, number]);
}

describe('what a cycle says it changed (changedFrom in the refresh log)', function () {
  this.timeout(180_000);
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase();
    await seed(db.pool, { runs: 400, days: 20, end: Date.now(), seed: 5 });
    await refreshViews(db.pool, registeredViews(), REFRESH_OPTIONS);
  });
  after(async () => db?.drop());

  const cycle = async (label: string, write: () => Promise<void>) => {
    const before = await snapshot(db);
    await write();
    const results: RefreshResult[] = await refreshViews(db.pool, registeredViews(), { ...REFRESH_OPTIONS, force: true });
    const after = await snapshot(db);
    const tier = await db.pool.query<{ view_name: string; f: number }>(`SELECT view_name, fine_from::float8 AS f FROM ${MAINTENANCE}`);
    const fineFrom = new Map(tier.rows.map((r) => [r.view_name, r.f]));
    let checked = 0;
    for (const r of results) {
      expect(r.outcome, `${label}: ${r.view} ${r.error ?? ''}`).to.equal('refreshed');
      const changed = r.report!.changedFrom as ChangedFrom;
      // What the log row holds is what readers get (src/read/view-state.ts reads it back).
      const logged = await db.pool.query(`SELECT detail -> 'changedFrom' AS c FROM ${TABLES.refreshLog} WHERE view_name = $1 AND outcome = 'refreshed' ORDER BY id DESC LIMIT 1`, [r.view]);
      expect(logged.rows[0].c, `${label}: ${r.view} logged`).to.deep.equal(changed);
      expect(changed, `${label}: ${r.view} is not a rebuild`).not.to.equal(null);
      const from = fineFrom.get(r.view)!;
      for (const [g, b] of differing(readable(r.view, before.get(r.view)!, from), readable(r.view, after.get(r.view)!, from))) {
        checked++;
        expect(b, `${label}: ${r.view} changed grain ${g} bucket ${new Date(b).toISOString()}, before its changedFrom ${JSON.stringify(changed)}`).to.be.at.least(
          changed![String(g)] ?? Infinity,
        );
      }
    }
    return checked;
  };

  it('covers late runs into sealed days, new minutes, status upserts and deletes', async () => {
    const now = Date.now();
    let checked = await cycle('late runs and new ones', async () => {
      for (const days of [2, 9, 15]) await insertRun(db.pool, { ts: now - days * DAY_MS + 7 * HOUR_MS + 1234, jobs: 3 });
      await insertRun(db.pool, { ts: now - 3 * MINUTE_MS, jobs: 2 });
    });
    // Only the view changes (the minute is still open): nothing is merged into history.
    checked += await cycle('a run in the open minute', async () => {
      await insertRun(db.pool, { ts: Date.now(), jobs: 2 });
    });
    checked += await cycle('status upserts, old and new', async () => {
      await upsertStatus(db.pool, [
        { jobId: '00000000-0000-4000-8000-00000000c0de', createdAt: now - 11 * DAY_MS, status: 'FAILED' },
        { jobId: '00000000-0000-4000-8000-00000000c0df', createdAt: now - 2 * MINUTE_MS, status: 'RUNNING' },
      ]);
    });
    checked += await cycle('a small delete of jobs, and a deleted run', async () => {
      await db.pool.query(`DELETE FROM ${TABLES.runsJobs} WHERE internal_id IN (SELECT internal_id FROM ${TABLES.runsJobs} ORDER BY internal_id LIMIT 3 OFFSET 40)`);
      await db.pool.query(`DELETE FROM ${TABLES.runs} WHERE event_id = (SELECT event_id FROM ${TABLES.runs} ORDER BY timestamp_start LIMIT 1 OFFSET 100)`);
    });
    checked += await cycle('nothing written (only the clock moves)', async () => {});
    expect(checked, 'the cycles changed some buckets').to.be.greaterThan(0);
  });

  it('stays exact through one long-lived parts cache across a cycle that compacts two days of the recent tier', async () => {
    const cache = new PartsCache({ stateTtlMs: 0 });
    const { rows } = await db.pool.query<{ f: string }>(`SELECT min(fine_from)::text AS f FROM ${MAINTENANCE}`);
    const fineFrom = Number(rows[0]!.f);
    const now = Date.now();
    // Windows whose edges lie in the two days about to be compacted (minute segments there now).
    const windows = [
      { timestamp_start: fineFrom + 5 * HOUR_MS + 13 * MINUTE_MS + 7, timestamp_end: now },
      { timestamp_start: fineFrom + DAY_MS + 2 * HOUR_MS + 41 * MINUTE_MS, timestamp_end: fineFrom + DAY_MS + 20 * HOUR_MS + 3 * MINUTE_MS },
    ];
    await expectAllExact(db.pool, windows, now, { cache, realtime: true });
    // A newest fact two days past the tier's anchor day (noon, whatever the clock says now) moves
    // every recent tier two days on; that cycle deletes their minutes (and per-catalog hours) of
    // the two days it leaves behind.
    const later = fineFrom + (FINE_DAYS + 2) * DAY_MS + 12 * HOUR_MS;
    await insertRun(db.pool, { ts: later - 5 * MINUTE_MS, jobs: 2 });
    await upsertStatus(db.pool, [{ jobId: '00000000-0000-4000-8000-0000000a7e12', createdAt: later - 5 * MINUTE_MS, status: 'SUCCEEDED' }]);
    for (const r of await refreshViews(db.pool, registeredViews(), { ...REFRESH_OPTIONS, now: later })) expect(r.outcome, r.view).to.equal('refreshed');
    const moved = await db.pool.query<{ f: string }>(`SELECT min(fine_from)::text AS f FROM ${MAINTENANCE}`);
    expect(Number(moved.rows[0]!.f), 'the tier moved').to.equal(fineFrom + 2 * DAY_MS);
    // The same cache, the windows read before and new ones inside the compacted days.
    await expectAllExact(db.pool, [...windows, { timestamp_start: fineFrom + 3 * HOUR_MS + 1, timestamp_end: fineFrom + 30 * HOUR_MS - 1 }], later, { cache, realtime: true });
  });

  it('says a rebuild may have changed anything', async () => {
    const results = await refreshViews(db.pool, registeredViews(), { ...REFRESH_OPTIONS, rebuild: true });
    for (const r of results) expect(r.report!.changedFrom, r.view).to.equal(null);
  });
});
