/**
 * The SECURITY DEFINER trigger functions cannot be pointed at another table by the session that
 * fires them (issue 26): a writer's temporary table named like a gateway table does not shadow it.
 */
import { expect } from 'chai';
import { seed } from '../../../src/seed/seed.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { NOW } from '../../helpers/fixtures.ts';

const DAY_MS = 86_400_000;

describe('the trigger functions under a writer session with temporary tables', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    await seed(db.pool, { runs: 20, days: 3, end: NOW, seed: 3 });
  });
  after(async () => db?.drop());

  it("records the invalidated day of the job's real run, not of a temporary public_cps_za_runs the writer made", async () => {
    const { rows } = await db.pool.query<{ internal_id: number; event_id: string; ts: string }>(
      `SELECT j.internal_id, j.event_id, r.timestamp_start::text AS ts
         FROM public.public_cps_za_runs_jobs j JOIN public.public_cps_za_runs r ON r.event_id = j.event_id
        WHERE r.timestamp_start IS NOT NULL ORDER BY j.internal_id LIMIT 1`,
    );
    const job = rows[0]!;
    const realDay = Number(job.ts) - (Number(job.ts) % DAY_MS);
    await db.pool.query('DELETE FROM eventstats.invalidations');
    const writer = await db.pool.connect();
    try {
      await writer.query('CREATE TEMPORARY TABLE public_cps_za_runs (event_id text, timestamp_start bigint)');
      await writer.query('INSERT INTO public_cps_za_runs VALUES ($1, $2)', [job.event_id, 5 * DAY_MS + 123]);
      // An update of the job fires eventstats.jobs_changed(), which looks its run up.
      await writer.query('UPDATE public.public_cps_za_runs_jobs SET status = status WHERE internal_id = $1', [job.internal_id]);
    } finally {
      await writer.query('DROP TABLE IF EXISTS pg_temp.public_cps_za_runs').catch(() => {});
      writer.release();
    }
    const days = await db.pool.query<{ from_ms: string }>('SELECT DISTINCT from_ms::text AS from_ms FROM eventstats.invalidations');
    expect(days.rows.map((r) => Number(r.from_ms))).to.deep.equal([realDay]);
  });

  it('sets search_path = pg_catalog, public, pg_temp on every SECURITY DEFINER function of the eventstats schema', async () => {
    const { rows } = await db.pool.query<{ name: string; config: string[] | null }>(
      `SELECT p.proname AS name, p.proconfig AS config FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'eventstats' AND p.prosecdef ORDER BY 1`,
    );
    expect(rows.length).to.be.greaterThan(0);
    for (const r of rows) expect(r.config, r.name).to.deep.equal(['search_path=pg_catalog, public, pg_temp']);
  });
});
