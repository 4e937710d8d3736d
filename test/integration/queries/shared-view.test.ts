/**
 * Queries that share a view (mv_job_facts: failed_jobs, aggregation_by_catalog, job_status_trend,
 * failed_jobs_by_country). One query's read keeps the view's version for the state's TTL; after a
 * cycle within it, another query's statement sees the new version. That read is answered exactly
 * (read again from one snapshot), and the one after it reads the state again, so from then on the
 * window is cached: without ViewStates.saw every read until the TTL ran out read twice and cached
 * nothing (the shape sweep's warm reads of aggregation_by_catalog, docs/BENCHMARKS.md).
 */
import { expect } from 'chai';
import { createExecutor } from '../../../src/db/executor.ts';
import { VIEWS } from '../../../src/db/tables.ts';
import { prepareQuery } from '../../../src/read/execute.ts';
import { findQuery, registeredViews } from '../../../src/declarations/index.ts';
import { PartsCache } from '../../../src/read/parts-cache.ts';
import { DAY_MS, HOUR_MS } from '../../../src/rollup/window.ts';
import { refreshViews } from '../../../src/refresh/refresh-view.ts';
import { seed } from '../../../src/seed/index.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { expectSameRows } from '../../helpers/exact.ts';
import { REFRESH_OPTIONS } from '../../helpers/fixtures.ts';
import { oracle } from '../../helpers/oracle.ts';
import { insertRun } from '../maintenance/writes.ts';

describe('queries that share a view', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    await seed(db.pool, { runs: 400, days: 10, end: Date.now(), seed: 7 });
    await refreshViews(db.pool, registeredViews(), REFRESH_OPTIONS);
  });
  after(async () => db?.drop());

  it("reads the state again once a statement saw a version newer than the one kept, so a cycle within the state's TTL costs one double read, not a TTL of them", async () => {
    const executor = createExecutor(db.pool, 30_000);
    // A TTL longer than the test: only what a statement saw can make the state be read again.
    const cache = new PartsCache({ stateTtlMs: 3_600_000 });
    const failed = findQuery('public.cps.za.runs', 'failed_jobs')!;
    const byCatalog = findQuery('public.cps.za.runs', 'aggregation_by_catalog')!;
    expect(failed.rollup.view).to.equal(VIEWS.jobFacts);
    expect(byCatalog.rollup.view).to.equal(VIEWS.jobFacts);
    const window = () => ({ timestamp_start: Date.now() - 5 * DAY_MS - HOUR_MS, timestamp_end: Date.now() });
    const read = (q: typeof failed, body: Record<string, unknown>) => prepareQuery(q, body, { kind: 'all' }, Date.now()).run(executor, cache, true, 'alice');

    // failed_jobs keeps mv_job_facts' version; then a cycle makes a new one.
    await read(failed, window());
    await insertRun(db.pool, { ts: Date.now() - 2 * DAY_MS, jobs: 3, failing: true });
    for (const r of await refreshViews(db.pool, registeredViews(), REFRESH_OPTIONS)) expect(r.outcome, r.error).to.equal('refreshed');

    const body = window();
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await read(byCatalog, body));
    // Every answer exact, the first one (read twice) included.
    const o = oracle('aggregation_by_catalog', { start: body.timestamp_start, end: body.timestamp_end }, { ...answers[0]!.params, filters: {} });
    const expected = await db.pool.query<Record<string, unknown>>(o.text, o.values as unknown[]);
    for (const a of answers) expectSameRows(a.data as Record<string, unknown>[], expected.rows, 'aggregation_by_catalog after a cycle within the TTL');
    // The second read cached the window at the new version; the third found it.
    expect(cache.stats().hits.window, 'window hits after the cycle').to.be.at.least(1);
  });
});
