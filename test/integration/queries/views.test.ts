import { expect } from 'chai';
import { registeredViews } from '../../../src/declarations/index.ts';
import { TABLES } from '../../../src/db/tables.ts';
import pg from 'pg';
import { relationsOf } from '../../../src/rollup/layout.ts';
import { refreshView, refreshViews } from '../../../src/refresh/refresh-view.ts';
import { seed } from '../../../src/seed/index.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { NOW, REFRESH_OPTIONS } from '../../helpers/fixtures.ts';
import { refreshWaiting } from '../../helpers/refresh-worker.ts';

describe('the materialized views after migrating', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db?.drop());

  it('exist for every registry entry, with the unique index REFRESH CONCURRENTLY needs', async () => {
    for (const view of registeredViews()) {
      const [schema, name] = view.name.split('.');
      const { rows } = await db.pool.query<{ indexdef: string; nullable: boolean }>(
        `SELECT pg_get_indexdef(i.indexrelid) AS indexdef,
                bool_or(NOT a.attnotnull) AS nullable
           FROM pg_index i
           JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
          WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'm' AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
          GROUP BY 1`,
        [schema, name],
      );
      expect(rows, view.name).to.have.length(1);
    }
  });

  it('contain nothing that is not a registry entry', async () => {
    const { rows } = await db.pool.query<{ name: string }>(`SELECT schemaname || '.' || matviewname AS name FROM pg_matviews ORDER BY 1`);
    expect(rows.map((r) => r.name)).to.deep.equal(registeredViews().map((v) => v.name).sort());
  });

  it('keep every unchanged row in place on a concurrent refresh, NULL dimensions included', async () => {
    await seed(db.pool, { runs: 400, days: 10, end: NOW, seed: 3 });
    await refreshViews(db.pool, registeredViews(), REFRESH_OPTIONS);
    const { rows: nulls } = await db.pool.query(`SELECT count(*)::int AS n FROM eventstats.run_status_summary_buckets WHERE null_mask & 8 <> 0`);
    expect(nulls[0].n, 'the fixture has NULL status_type rows').to.be.greaterThan(0);
    const ctids = async (view: string) => (await db.pool.query(`SELECT ctid::text AS c FROM ${view} ORDER BY 1`)).rows.map((r) => r.c as string);
    for (const view of registeredViews()) {
      const { history } = relationsOf(view.spec);
      const before = [await ctids(view.name), await ctids(history)];
      expect(before[1]!.length, `${history} holds the sealed buckets`).to.be.greaterThan(0);
      const [result] = await refreshViews(db.pool, [view], { ...REFRESH_OPTIONS, force: true });
      expect(result?.outcome).to.equal('refreshed');
      expect(result?.concurrently).to.equal(true);
      expect([await ctids(view.name), await ctids(history)], `${view.name}: rows rewritten by an unchanged cycle`).to.deep.equal(before);
    }
  });
});

describe('a refresh on a pooled connection', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db?.drop());

  it('gives the connection back with the server defaults (timeouts)', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      const settings = async () =>
        (await pool.query(`SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l`)).rows[0];
      const before = await settings();
      const [view] = registeredViews();
      const result = await refreshView(pool, view!, { ...REFRESH_OPTIONS, lockTimeoutMs: 7_777, force: true });
      expect(result.outcome).to.equal('refreshed');
      expect(before.l).not.to.equal('7777ms');
      expect(await settings()).to.deep.equal(before);
    } finally {
      await pool.end();
    }
  });

  it('cancels a refresh waiting for its lock when its signal aborts, and logs the attempt failed', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      const [view] = registeredViews();
      // A REFRESH in an open transaction holds the view's lock until it ends.
      await blocker.query('BEGIN');
      await blocker.query(`REFRESH MATERIALIZED VIEW ${view!.name}`);
      const controller = new AbortController();
      const attempt = refreshView(pool, view!, { ...REFRESH_OPTIONS, lockTimeoutMs: 60_000, force: true, signal: controller.signal });
      // The test before populated the view, so refreshView runs REFRESH ... CONCURRENTLY.
      await refreshWaiting(pool, view!.name);
      controller.abort();
      const result = await attempt;
      expect([result.outcome, result.error]).to.deep.equal(['failed', 'canceling statement due to user request']);
      const { rows } = await pool.query(`SELECT outcome FROM ${TABLES.refreshLog} WHERE view_name = $1 ORDER BY id DESC LIMIT 1`, [view!.name]);
      expect(rows[0]?.outcome).to.equal('failed');
    } finally {
      await blocker.end();
      await pool.end();
    }
  });

  it('does not start a REFRESH whose signal aborted before it', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      const [view] = registeredViews();
      const result = await refreshView(pool, view!, { ...REFRESH_OPTIONS, force: true, signal: AbortSignal.abort() });
      expect(result.outcome).to.equal('failed');
      expect(result.error).to.match(/^cancelled before the refresh started/);
    } finally {
      await pool.end();
    }
  });
});
