import { expect } from 'chai';
import pg from 'pg';
import { migrateUp } from '../../src/db/migrate.ts';
import { TABLES } from '../../src/db/tables.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

describe('migrations', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db.drop());

  it('creates the gateway tables with the upstream columns', async () => {
    const { rows } = await db.pool.query<{ column_name: string; data_type: string; is_nullable: string }>(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
        WHERE table_name = $1 ORDER BY ordinal_position`,
      [TABLES.runsJobs],
    );
    expect(rows.map((r) => r.column_name)).to.deep.equal([
      'internal_id', 'event_id', 'country', 'catalog_id', 'status', 'timestamp_start', 'timestamp_end', 'message', 'additional_info',
    ]);
    expect(rows.find((r) => r.column_name === 'country')?.is_nullable).to.equal('YES');
    expect(rows.find((r) => r.column_name === 'additional_info')?.data_type).to.equal('jsonb');
    for (const table of [TABLES.runs, TABLES.dlchange, TABLES.test, TABLES.statusChange]) {
      const { rowCount } = await db.pool.query('SELECT 1 FROM information_schema.tables WHERE table_name = $1', [table]);
      expect(rowCount, table).to.equal(1);
    }
  });

  it('enforces the status-change table checks', async () => {
    const insert = (status: string, attempt: number) =>
      db.pool.query(
        `INSERT INTO ${TABLES.statusChange} (job_id, status_type, attempt_number, last_updated_at)
         VALUES (gen_random_uuid(), $1, $2, now())`,
        [status, attempt],
      );
    await insert('RUNNING', 1);
    await expectRejected(insert('DONE', 1), '23514');
    await expectRejected(insert('FAILED', 0), '23514');
  });

  it('is a no-op the second time', async () => {
    expect(await migrateUp(db.url)).to.deep.equal([]);
  });

  it('grants the reader role SELECT and nothing more', async () => {
    const { rows } = await db.pool.query<{ privilege_type: string }>(
      `SELECT DISTINCT privilege_type FROM information_schema.role_table_grants
        WHERE grantee = 'eventstats_reader' AND table_name = $1`,
      [TABLES.runs],
    );
    expect(rows.map((r) => r.privilege_type)).to.deep.equal(['SELECT']);
    const role = await db.pool.query<{ rolcanlogin: boolean }>(`SELECT rolcanlogin FROM pg_roles WHERE rolname = 'eventstats_reader'`);
    expect(role.rows[0]?.rolcanlogin).to.equal(false);
  });
});

async function expectRejected(p: Promise<unknown>, sqlstate: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect((err as pg.DatabaseError).code).to.equal(sqlstate);
    return;
  }
  expect.fail(`expected SQLSTATE ${sqlstate}`);
}
