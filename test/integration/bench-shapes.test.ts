/**
 * The shape sweep (npm run bench:shapes -- --smoke) end to end on a suite database: every shape of
 * every compiled query answered 200 cold and warm through the API process, and every warm answer
 * equals the oracle over the same window. Timings are reported by the sweep, never asserted here.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { firstDifference } from '../../bench/on-the-fly.ts';
import { Resources } from '../../bench/processes.ts';
import { runShapes, sweepShapes, SWEEP_DAYS, type ShapeRun } from '../../bench/shape-sweep.ts';
import { SUPPORTED_QUERIES } from '../../src/declarations/index.ts';
import { DAY_MS } from '../../src/rollup/window.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { oracle } from '../helpers/oracle.ts';

describe('the shape sweep (npm run bench:shapes -- --smoke)', function () {
  this.timeout(300_000);
  let db: TestDatabase;
  let out: string;
  let run: ShapeRun;

  before(async () => {
    db = await createTestDatabase({ migrate: false });
    out = await mkdtemp(path.join(os.tmpdir(), 'eventstats-shapes-test-'));
    const resources = new Resources();
    try {
      run = await runShapes({ jobs: 5_000, databaseUrl: db.url, seed: 42, outDir: out, smoke: true, keepAnswers: true, log: () => {} }, resources, 'test');
    } finally {
      await resources.release();
    }
  });
  after(async () => {
    if (out) await rm(out, { recursive: true, force: true });
    await db?.drop();
  });

  it('sends every query\'s default shape, each group_by dimension alone, each filter alone and hour buckets, over 1, 7, 30 and 90 days', () => {
    const perWindow = sweepShapes({ tenant_id: 't', source_app: 's', environment: 'e', catalog_id: 'c', country: 'k' });
    expect(run.results).to.have.length(perWindow.length * SWEEP_DAYS.length);
    expect(new Set(run.results.map((r) => r.query))).to.deep.equal(new Set(SUPPORTED_QUERIES.map((q) => q.name)));
    for (const q of SUPPORTED_QUERIES) {
      const shapes = new Set(run.results.filter((r) => r.query === q.name).map((r) => r.shape.replace(/=.*$/, '')));
      for (const f of q.filters) expect(shapes, `${q.name} filter ${f}`).to.include(f);
      expect(shapes, q.name).to.include('default');
    }
    expect(perWindow.filter((s) => s.query === 'failed_jobs').map((s) => s.shape)).to.include.members(['group_by=catalog_id', 'group_by=country']);
    expect(perWindow.filter((s) => s.query === 'job_status_trend').map((s) => s.shape)).to.include('bucket=hour');
  });

  it('answers every shape 200, cold and warm, most of them with rows', () => {
    const failed = run.results.filter((r) => r.cold.status !== 200 || r.warm.status !== 200).map((r) => `${r.query} ${r.shape} ${r.days}d`);
    expect(failed).to.deep.equal([]);
    expect(run.summary.non200).to.equal(0);
    for (const r of run.results) expect(r.rows, `${r.query} ${r.shape} ${r.days}d`).to.be.a('number');
    // At 5,000 jobs a narrow filter, or even one whole day, may hold no failed job; a week of the
    // default shapes always has rows.
    for (const r of run.results.filter((x) => x.shape === 'default' && x.days >= 7)) expect(r.rows, `${r.query} ${r.days}d`).to.be.greaterThan(0);
    expect(run.results.filter((r) => r.rows! > 0).length).to.be.greaterThan(run.results.length * 0.75);
  });

  it('answers every shape exactly as the oracle does over the same window', async () => {
    for (const r of run.results) {
      const params = r.answer!.params;
      const filters = Object.fromEntries(
        SUPPORTED_QUERIES.find((q) => q.name === r.query)!.filters.filter((f) => f in r.body).map((f) => [f, [r.body[f] as string]]),
      );
      const o = oracle(r.query, r.window, { ...params, filters });
      const expected = await db.pool.query<Record<string, unknown>>(o.text, o.values as unknown[]);
      expect(firstDifference(r.answer!.data, expected.rows), `${r.query} ${r.shape} ${r.days}d`).to.equal(null);
    }
  });

  it('names the level each shape read: every shape has one, so only window edges come from the base tables (issue 29)', () => {
    const fallen = run.results.filter((r) => r.level === null);
    expect(run.summary.baseTables).to.equal(fallen.length);
    expect(fallen.map((r) => `${r.query} ${r.shape} ${r.days}d`), 'shapes read from the base tables whole').to.deep.equal([]);
    // A catalog filter on failed_jobs: a level holding catalog_id, and raw edges of at most a day.
    const byCatalog = run.results.find((r) => r.query === 'failed_jobs' && r.shape.startsWith('catalog_id=') && r.days === 90)!;
    expect(byCatalog.level?.dims).to.include('catalog_id');
    expect(byCatalog.rawSpanMs).to.be.lessThan(2 * DAY_MS);
    const byDefault = run.results.find((r) => r.query === 'failed_jobs' && r.shape === 'default' && r.days === 90)!;
    expect(byDefault.level?.dims).to.deep.equal(['tenant_id', 'source_app']);
  });

  it('writes the JSON and the Markdown table, with the summary', () => {
    const md = readFileSync(run.files!.markdown, 'utf8');
    expect(md).to.contain('## Summary').and.contain('## Per shape');
    const json = JSON.parse(readFileSync(run.files!.json, 'utf8')) as ShapeRun;
    expect(json.results).to.have.length(run.results.length);
    expect(json.results[0]).to.not.have.property('answer');
  });
});
