/**
 * pg-boss's schema comes from migrations, so the worker runs on DML alone: the migration must be
 * exactly what the installed pg-boss would build, and a worker must start without creating anything.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { runner } from 'node-pg-migrate';
import { getConstructionPlans, PgBoss } from 'pg-boss';
import { PGBOSS_SCHEMA, refreshQueue } from '../../../src/db/tables.ts';
import { WorkerSetupError } from '../../../src/refresh/worker.ts';
import { MIGRATIONS_DIR, MIGRATIONS_TABLE, migrateUp } from '../../../src/db/migrate.ts';
import { VIEWS } from '../../../src/db/tables.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { testWorker } from '../../helpers/refresh-worker.ts';

/** The migration that installs the pg-boss schema the worker runs on (its version's construction SQL). */
const MIGRATION = path.join(MIGRATIONS_DIR, '1764000005000_pgboss-12.sql');
const FIRST_PGBOSS_MIGRATION = path.join(MIGRATIONS_DIR, '1764000002000_pgboss-schema.sql');

/** SQL compared as statements: comments, layout and pg-boss's own BEGIN/COMMIT wrapper aside. */
function statements(sql: string): string {
  return sql
    .replace(/^\s*--.*$/gm, '')
    .replace(/^\s*(BEGIN|COMMIT);\s*$/gm, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*;[\s;]*/g, '; ')
    .trim();
}

async function relationsOf(db: TestDatabase, schema: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY 1`,
    [schema],
  );
  return rows.map((r) => r.relname);
}

async function expectRejected(p: Promise<unknown>, type: new (...args: never[]) => Error, message: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(type);
    expect((err as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected a ${type.name}`);
}

describe('the pg-boss schema migration', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db?.drop());

  it('holds the construction SQL of the installed pg-boss', () => {
    const migration = readFileSync(MIGRATION, 'utf8');
    const block = /^-- pg-boss [\d.]+ construction: begin$([\s\S]*)^-- pg-boss [\d.]+ construction: end$/m.exec(migration);
    expect(block, 'construction markers').to.not.equal(null);
    expect(statements(block![1]!)).to.equal(statements(getConstructionPlans(PGBOSS_SCHEMA)));
  });

  it('installs the schema version that pg-boss, started with migrate: false, accepts', async () => {
    const boss = new PgBoss({ connectionString: db.url, migrate: false, schedule: false, supervise: false, max: 1 });
    boss.on('error', () => {});
    await boss.start();
    try {
      expect(await boss.isInstalled()).to.equal(true);
    } finally {
      await boss.stop();
    }
  });

  it('lets a worker start and stop as the owner without creating anything', async () => {
    // The owner could run DDL, so an attempt would show here as a new relation, even one that
    // pg-boss tries and ignores the failure of (its cron queue, for one).
    const before = await relationsOf(db, PGBOSS_SCHEMA);
    const worker = testWorker(db.url);
    await worker.start();
    await worker.stop();
    expect(await relationsOf(db, PGBOSS_SCHEMA)).to.deep.equal(before);
  });

  it('lets a worker start and stop on a role that cannot run DDL', async () => {
    const role = `es_worker_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await db.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    try {
      // What a worker's login needs on pg-boss's schema: reading and writing rows, nothing else.
      await db.pool.query(`GRANT USAGE ON SCHEMA ${PGBOSS_SCHEMA} TO ${role}`);
      await db.pool.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${PGBOSS_SCHEMA} TO ${role}`);
      const { rows } = await db.pool.query<{ allowed: boolean }>(`SELECT has_schema_privilege($1, $2, 'CREATE') AS allowed`, [role, PGBOSS_SCHEMA]);
      expect(rows[0]?.allowed, 'the role may create in the pg-boss schema').to.equal(false);

      const url = new URL(db.url);
      url.username = role;
      url.password = password;
      const worker = testWorker(url.toString());
      await worker.start();
      await worker.stop();
    } finally {
      // Revoked by their grantor rather than DROP OWNED BY, which a non-superuser owner (what the
      // suite runs as) may not run for a role it is not a member of.
      await db.pool.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${PGBOSS_SCHEMA} FROM ${role}`);
      await db.pool.query(`REVOKE USAGE ON SCHEMA ${PGBOSS_SCHEMA} FROM ${role}`);
      await db.pool.query(`DROP ROLE ${role}`);
    }
  });

  it('is undone by its down migration, and applied again by the next migrate', async () => {
    // Down to just before it, through whatever later migrations exist by then.
    const count = readdirSync(MIGRATIONS_DIR).filter((f) => f >= path.basename(FIRST_PGBOSS_MIGRATION)).length;
    const down = await runner({ databaseUrl: db.url, dir: MIGRATIONS_DIR, migrationsTable: MIGRATIONS_TABLE, direction: 'down', count, log: () => {} });
    expect(down.map((m) => m.name).slice(-2)).to.deep.equal(['1764000002100_refresh-queues', '1764000002000_pgboss-schema']);
    const { rows } = await db.pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [PGBOSS_SCHEMA]);
    expect(rows).to.deep.equal([]);
    expect((await migrateUp(db.url)).slice(0, 2)).to.deep.equal(['1764000002000_pgboss-schema', '1764000002100_refresh-queues']);
  });
});

describe('a worker on a database that is not migrated', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => db?.drop());

  it('refuses to start without pg-boss, saying to migrate', async () => {
    await db.pool.query(`DROP SCHEMA ${PGBOSS_SCHEMA} CASCADE`);
    await expectRejected(testWorker(db.url).start(), WorkerSetupError, /pg-boss is not installed.*npm run migrate/);
  });

  it('refuses to start while a refresh queue has lost its stately policy, naming it', async () => {
    // pg-boss 12 sets a policy only when it creates a queue, so the worker cannot repair it.
    await db.pool.query(`UPDATE ${PGBOSS_SCHEMA}.queue SET policy = 'standard' WHERE name = $1`, [refreshQueue(VIEWS.jobFacts)]);
    await expectRejected(testWorker(db.url).start(), WorkerSetupError, /refresh\.eventstats\.mv_job_facts must have the 'stately' policy/);
  });

  it('refuses to start while a registered view has no queue, naming it', async () => {
    await db.pool.query(`SELECT ${PGBOSS_SCHEMA}.delete_queue($1)`, [refreshQueue(VIEWS.runStatusSummary)]);
    await expectRejected(testWorker(db.url).start(), WorkerSetupError, /no pg-boss queue for refresh\.eventstats\.mv_run_status_summary.*npm run migrate/);
  });
});
