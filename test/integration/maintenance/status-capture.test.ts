/**
 * The status-change capture that costs the gateway's upsert no call (issue 25;
 * src/maintenance/status-capture.ts): an upsert of an event on time is recorded by no trigger and
 * found by the next cycle through last_updated_at; what that would miss (a late event, an old row
 * whose last_updated_at the gateway's greatest(...) leaves where it was, an update that moves
 * created_at, a delete) is recorded by a trigger; a writer open across a cycle is counted after it
 * commits. After every cycle the status query equals the oracle.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import pg from 'pg';
import { TABLES } from '../../../src/db/tables.ts';
import { STATUS_CAPTURE_MARGIN_MS } from '../../../src/maintenance/status-capture.ts';
import { STATUS_CHANGE_DELTAS } from '../../../src/rollup/layout.ts';
import { registeredViews } from '../../../src/declarations/index.ts';
import { DAY_MS, HOUR_MS } from '../../../src/rollup/window.ts';
import { refreshViews, type RefreshResult } from '../../../src/refresh/refresh-view.ts';
import { seed } from '../../../src/seed/index.ts';
import { expectAllExact, type Window } from '../../helpers/exact.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { REFRESH_OPTIONS } from '../../helpers/fixtures.ts';
import { propertyOptions } from '../../helpers/property.ts';

const STATUS_VIEWS = () => registeredViews().filter((v) => v.spec.facts.source === 'status_change');
const TOPIC = 'public.cps.za.status_change';

const windowsAt = (now: number): Window[] => [
  { timestamp_start: now - 45 * DAY_MS, timestamp_end: now + HOUR_MS },
  { timestamp_start: now - 5 * DAY_MS - 3 * HOUR_MS - 12_345, timestamp_end: now - 2 * HOUR_MS },
  { timestamp_start: now - 30 * 60_000, timestamp_end: now },
];

type Queryable = Pick<pg.ClientBase, 'query'>;

/**
 * The gateway's upsert (test/integration/maintenance/writes.ts), last_updated_at given as the
 * server's clock minus `lagMs`: 0 is an event on time, more than the margin a late one.
 */
async function upsert(db: Queryable, jobId: string, status: string | null, lagMs: number, created: string | null = null): Promise<void> {
  await db.query(
    `INSERT INTO ${TABLES.statusChange} AS t (job_id, tenant_id, source_app, environment, country, status_type, created_at, last_updated_at)
     VALUES ($1, 'capture-tenant', 'app-capture', 'prod', 'ZA', $2, coalesce($3::timestamptz, now() - interval '3 days'), clock_timestamp() - $4 * interval '1 millisecond')
     ON CONFLICT (job_id) DO UPDATE
        SET status_type = EXCLUDED.status_type, tenant_id = coalesce(EXCLUDED.tenant_id, t.tenant_id),
            last_updated_at = greatest(EXCLUDED.last_updated_at, t.last_updated_at)`,
    [jobId, status, created, lagMs],
  );
}

async function cycle(db: TestDatabase): Promise<RefreshResult[]> {
  const results = await refreshViews(db.pool, STATUS_VIEWS(), REFRESH_OPTIONS);
  for (const r of results) expect(r.outcome, `${r.view}: ${r.error ?? ''}`).to.be.oneOf(['refreshed', 'skipped']);
  return results;
}

const exact = (db: TestDatabase) => expectAllExact(db.pool, windowsAt(Date.now()), Date.now(), { topic: TOPIC });
const recorded = async (db: TestDatabase) => (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${STATUS_CHANGE_DELTAS}`)).rows[0]!.n;

/** A seeded row created days ago, by its rank (job_id order), with its status. */
async function oldRow(db: TestDatabase, rank: number): Promise<{ job_id: string; status_type: string | null }> {
  const { rows } = await db.pool.query(
    `SELECT job_id, status_type FROM ${TABLES.statusChange} WHERE created_at < now() - interval '2 days' ORDER BY job_id OFFSET $1 LIMIT 1`,
    [rank],
  );
  return rows[0];
}

const other = (s: string | null) => (s === 'FAILED' ? 'SUCCEEDED' : 'FAILED');

describe('status capture: found through last_updated_at, the rest recorded by triggers', function () {
  this.timeout(180_000);
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase();
    await seed(db.pool, { runs: 400, days: 30, end: Date.now(), seed: 31 });
    await refreshViews(db.pool, registeredViews(), REFRESH_OPTIONS);
  });
  after(async () => db?.drop());

  it("the migration's triggers skip what is STATUS_CAPTURE_MARGIN_MS or less behind the clock", async () => {
    const { rows } = await db.pool.query<{ def: string }>(
      `SELECT pg_get_triggerdef(t.oid) AS def FROM pg_trigger t
        WHERE t.tgrelid = '${TABLES.statusChange}'::regclass AND t.tgname IN ('eventstats_status_change_inserted', 'eventstats_status_change_updated')`,
    );
    expect(rows).to.have.length(2);
    const { rows: margin } = await db.pool.query<{ text: string }>(`SELECT ($1 * interval '1 millisecond')::text AS text`, [STATUS_CAPTURE_MARGIN_MS]);
    for (const r of rows) expect(r.def).to.include(`clock_timestamp() - '${margin[0]!.text}'::interval`);
  });

  it('records no upsert of an event on time, and the next cycle counts it (an old row changed in place)', async () => {
    const row = await oldRow(db, 3);
    await upsert(db.pool, row.job_id, other(row.status_type), 0);
    await upsert(db.pool, crypto.randomUUID(), 'RUNNING', 0);
    expect(await recorded(db), 'versions recorded by a trigger').to.equal(0);
    const [r] = await cycle(db);
    expect(r!.outcome).to.equal('refreshed');
    expect(r!.report?.rebuild).to.equal(false);
    await exact(db);
  });

  it("records a late event on an old row (greatest(...) leaves its last_updated_at where it was), and counts it", async () => {
    const row = await oldRow(db, 7);
    await db.pool.query(`UPDATE ${TABLES.statusChange} SET last_updated_at = now() - interval '2 days' WHERE job_id = $1`, [row.job_id]);
    await cycle(db);
    await upsert(db.pool, row.job_id, other(row.status_type), 3 * DAY_MS);
    const { rows } = await db.pool.query(`SELECT last_updated_at < now() - interval '1 day' AS unmoved FROM ${TABLES.statusChange} WHERE job_id = $1`, [row.job_id]);
    expect(rows[0].unmoved, 'last_updated_at left where it was').to.equal(true);
    expect(await recorded(db)).to.equal(1);
    await cycle(db);
    await exact(db);
    expect(await recorded(db), 'applied and deleted').to.equal(0);
  });

  it('counts a late event on a row updated on time just before (its last_updated_at stays recent, no trigger fires)', async () => {
    const row = await oldRow(db, 11);
    await upsert(db.pool, row.job_id, 'RUNNING', 0);
    await cycle(db);
    await upsert(db.pool, row.job_id, 'KILLED', 2 * HOUR_MS);
    expect(await recorded(db)).to.equal(0);
    await cycle(db);
    await exact(db);
  });

  it('records an update that moves created_at (its old bucket), and a delete', async () => {
    const a = await oldRow(db, 15);
    const b = await oldRow(db, 19);
    await db.pool.query(`UPDATE ${TABLES.statusChange} SET created_at = created_at - interval '26 hours', last_updated_at = clock_timestamp() WHERE job_id = $1`, [a.job_id]);
    await db.pool.query(`DELETE FROM ${TABLES.statusChange} WHERE job_id = $1`, [b.job_id]);
    expect(await recorded(db)).to.equal(2);
    await cycle(db);
    await exact(db);
  });

  it('counts, once it commits, an upsert on time that a writer held open across a cycle (near the margin)', async () => {
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    try {
      const row = await oldRow(db, 23);
      await writer.query('BEGIN');
      // Just inside the margin: no trigger fires, and a bound taken from the cycle's clock alone
      // (without the open writer's start) would be past its last_updated_at a second later.
      await upsert(writer, row.job_id, other(row.status_type), STATUS_CAPTURE_MARGIN_MS - 1_000);
      await upsert(writer, crypto.randomUUID(), 'SUCCEEDED', STATUS_CAPTURE_MARGIN_MS - 1_000, new Date(Date.now() - 4 * DAY_MS).toISOString());
      await new Promise((r) => setTimeout(r, 1_500));
      await cycle(db);
      await exact(db);
      await writer.query('COMMIT');
      expect(await recorded(db)).to.equal(0);
      await new Promise((r) => setTimeout(r, 1_500));
      const [r] = await cycle(db);
      expect(r!.outcome, 'the committed rows are a change').to.equal('refreshed');
      await exact(db);
    } finally {
      await writer.end();
    }
  });

  it('skips a cycle when nothing changed, and not after an upsert that leaves last_updated_at where it was', async () => {
    await cycle(db);
    const row = await oldRow(db, 27);
    await upsert(db.pool, row.job_id, 'RUNNING', 0);
    await cycle(db);
    await cycle(db);
    const [skipped] = await cycle(db);
    expect(skipped!.outcome).to.equal('skipped');
    // The same last_updated_at (greatest keeps the row's): only the row's version tells.
    await upsert(db.pool, row.job_id, 'FAILED', 60_000);
    expect(await recorded(db)).to.equal(0);
    const [r] = await cycle(db);
    expect(r!.outcome).to.equal('refreshed');
    await exact(db);
  });
});

/** One step of the property: a status write as the gateway (or a repair, or retention) does it, or a cycle. */
type Step =
  | { kind: 'upsert'; rank: number; status: string | null; lagMs: number }
  | { kind: 'insert'; daysAgo: number; status: string | null; lagMs: number }
  | { kind: 'move'; rank: number; hours: number }
  | { kind: 'delete'; rank: number }
  | { kind: 'open'; rank: number; lagMs: number }
  | { kind: 'commit'; rollback: boolean }
  | { kind: 'cycle' };

const lagArb = fc.constantFrom(0, 1_000, STATUS_CAPTURE_MARGIN_MS - 2_000, STATUS_CAPTURE_MARGIN_MS + 60_000, 2 * HOUR_MS, 4 * DAY_MS);
const statusArb = fc.constantFrom(null, 'WAITING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'KILLED');
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('upsert' as const), rank: fc.integer({ min: 0, max: 40 }), status: statusArb, lagMs: lagArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), daysAgo: fc.integer({ min: 0, max: 35 }), status: statusArb, lagMs: lagArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('move' as const), rank: fc.integer({ min: 0, max: 40 }), hours: fc.integer({ min: -48, max: 48 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), rank: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('open' as const), rank: fc.integer({ min: 0, max: 40 }), lagMs: fc.constantFrom(0, STATUS_CAPTURE_MARGIN_MS - 2_000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('commit' as const), rollback: fc.boolean() }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'cycle' as const }) },
);

describe('status capture, property: random upserts on time and late, moves, deletes, open writers and cycles against the oracle', function () {
  this.timeout(600_000);

  it('the status query equals the oracle after every cycle', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 4, maxLength: 16 }), async (steps) => {
        const db = await createTestDatabase();
        const open: { client: pg.Client; jobId: string }[] = [];
        try {
          await seed(db.pool, { runs: 200, days: 30, end: Date.now(), seed: 17 });
          await refreshViews(db.pool, registeredViews(), REFRESH_OPTIONS);
          // A row by rank among those no open writer holds (the writers would block each other).
          const pick = async (rank: number): Promise<string | undefined> => {
            const { rows } = await db.pool.query(
              `SELECT job_id FROM ${TABLES.statusChange} WHERE job_id <> ALL($2::uuid[]) ORDER BY job_id OFFSET $1 LIMIT 1`,
              [rank, open.map((o) => o.jobId)],
            );
            return rows[0]?.job_id;
          };
          const end = async (o: { client: pg.Client }, rollback: boolean) => {
            await o.client.query(rollback ? 'ROLLBACK' : 'COMMIT');
            await o.client.end();
          };
          for (const s of [...steps, { kind: 'commit', rollback: false } as Step, { kind: 'cycle' } as Step]) {
            if (s.kind === 'upsert') {
              const id = await pick(s.rank);
              if (id) await upsert(db.pool, id, s.status, s.lagMs);
            } else if (s.kind === 'insert') {
              await upsert(db.pool, crypto.randomUUID(), s.status, s.lagMs, new Date(Date.now() - s.daysAgo * DAY_MS - 7_777).toISOString());
            } else if (s.kind === 'move') {
              const id = await pick(s.rank);
              if (id) await db.pool.query(`UPDATE ${TABLES.statusChange} SET created_at = created_at + $2 * interval '1 hour' WHERE job_id = $1`, [id, s.hours]);
            } else if (s.kind === 'delete') {
              const id = await pick(s.rank);
              if (id) await db.pool.query(`DELETE FROM ${TABLES.statusChange} WHERE job_id = $1`, [id]);
            } else if (s.kind === 'open') {
              const id = await pick(s.rank);
              if (!id) continue;
              const client = new pg.Client({ connectionString: db.url });
              await client.connect();
              await client.query('BEGIN');
              await upsert(client, id, 'KILLED', s.lagMs);
              open.push({ client, jobId: id });
            } else if (s.kind === 'commit') {
              // Every writer left open is ended by the last steps, so the final cycle sees them.
              for (const o of open.splice(0, !steps.includes(s) ? open.length : 1)) await end(o, s.rollback);
            } else {
              await cycle(db);
              await exact(db);
            }
          }
        } finally {
          await Promise.allSettled(open.map((o) => o.client.end()));
          await db.drop();
        }
      }),
      propertyOptions(8),
    );
  });
});
