/**
 * The PostgreSQL users run: the server build of this pass (ci_local.sh names it), the non-superuser
 * owner every fixture runs as, JIT kept off in every session of EventStats', and the start-up lines
 * for server settings that break an assumption.
 */
import { expect } from 'chai';
import pg from 'pg';
import { createExecutor } from '../../src/db/executor.ts';
import { createPool } from '../../src/db/pool.ts';
import { checkServerSettings, type ServerSettings } from '../../src/db/server-settings.ts';
import { SessionMode } from '../../src/db/session-mode.ts';
import { registeredViews } from '../../src/declarations/index.ts';
import { refreshView } from '../../src/refresh/refresh-view.ts';
import { runScript } from '../helpers/command.ts';
import { API_LOGIN, createTestDatabase, readerUrl, type TestDatabase } from '../helpers/database.ts';
import { REFRESH_OPTIONS } from '../helpers/fixtures.ts';
import { OWNER_ROLE, SUPERUSER_URL_ENV } from '../helpers/global-database.ts';
import { withClient } from '../helpers/pg-client.ts';

const ownServer = !process.env.TEST_DATABASE_URL;

async function scalar<T>(url: string, sql: string): Promise<T> {
  const row = await withClient(url, async (c) => (await c.query(sql)).rows[0] as Record<string, unknown> | undefined);
  return (row ? Object.values(row)[0] : undefined) as T;
}

describe('the PostgreSQL server the suite runs on', function () {
  this.timeout(180_000);
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db?.drop());

  it('is the major this pass of ci_local.sh names, with a working JIT on the system build', async () => {
    const major = Math.floor((await scalar<number>(db.url, `SELECT current_setting('server_version_num')::int`)) / 10000);
    if (process.env.EVENTSTATS_TEST_PG_MAJOR) expect(major, 'server major').to.equal(Number(process.env.EVENTSTATS_TEST_PG_MAJOR));
    expect(major).to.be.at.least(15);
    if (process.env.EVENTSTATS_TEST_SERVER === 'system') {
      expect(await scalar<boolean>(db.url, 'SELECT pg_jit_available()'), 'JIT available').to.equal(true);
      expect(await scalar<string>(db.url, `SELECT current_setting('jit')`), 'jit by default').to.equal('on');
    }
  });

  (ownServer ? it : it.skip)('runs every fixture, migration and cycle as a role with only what a managed service gives its master user', async () => {
    const row = await scalar<{ super: boolean; createrole: boolean; createdb: boolean }>(
      db.url,
      `SELECT json_build_object('super', rolsuper, 'createrole', rolcreaterole, 'createdb', rolcreatedb) FROM pg_roles WHERE rolname = current_user`,
    );
    expect(row).to.deep.equal({ super: false, createrole: true, createdb: true });
    expect(await scalar<string>(db.url, 'SELECT current_user')).to.equal(OWNER_ROLE);
    // The migrations ran as it: it owns the views and the query histories.
    const owners = await scalar<string[]>(db.url, `SELECT array_agg(DISTINCT matviewowner)::text[] FROM pg_matviews WHERE schemaname = 'eventstats'`);
    expect(owners).to.deep.equal([OWNER_ROLE]);
  });

  (ownServer ? it : it.skip)("serves reads as a login holding only eventstats_reader, which may not write or see the owner's tables beyond SELECT", async () => {
    const url = await readerUrl(db.url);
    expect(await scalar<string>(url, 'SELECT current_user')).to.equal(API_LOGIN);
    const rights = await scalar<{ select: boolean; insert: boolean; trigger: boolean }>(
      url,
      `SELECT json_build_object('select', has_table_privilege('public_cps_za_runs_jobs', 'SELECT'),
                                'insert', has_table_privilege('public_cps_za_runs_jobs', 'INSERT'),
                                'trigger', has_table_privilege('public_cps_za_runs_jobs', 'TRIGGER'))`,
    );
    expect(rights).to.deep.equal({ select: true, insert: false, trigger: false });
  });

  describe('JIT', () => {
    it("is off in the API's sessions, and random_page_cost 1.1, with settings in the startup packet and with SET LOCAL behind a transaction pooler", async () => {
      for (const startupSettings of [true, false]) {
        const settings = { statementTimeoutMs: 5_000, readOnly: true };
        const pool = createPool({ connectionString: db.url, max: 1, connectTimeoutMs: 5_000, applicationName: 'jit-test', startupSettings, ...settings });
        try {
          const session = new SessionMode(pool, startupSettings ? 'none' : 'transaction');
          const executor = createExecutor(pool, { retryAfterSeconds: 1, session, settings });
          const [row] = await executor.query<{ jit: string; cost: string }>({ text: `SELECT current_setting('jit') AS jit, current_setting('random_page_cost') AS cost`, values: [] });
          expect(row, startupSettings ? 'startup packet' : 'SET LOCAL').to.deep.equal({ jit: 'off', cost: '1.1' });
        } finally {
          await pool.end();
        }
      }
    });

    it("is off for every statement of a maintenance cycle, and the session goes back to the pool with the server's setting", async () => {
      const pool = new pg.Pool({ connectionString: db.url, max: 1 });
      const seen: string[] = [];
      const serverDefault = await scalar<string>(db.url, `SELECT current_setting('jit')`);
      // Between the cycle's statements, the same session says what its jit setting is.
      const connect = pool.connect.bind(pool);
      (pool as unknown as { connect: () => Promise<pg.PoolClient> }).connect = async () => {
        const client = await connect();
        const query = client.query.bind(client) as (...a: unknown[]) => Promise<pg.QueryResult>;
        let statements = 0;
        (client as unknown as { query: (...a: unknown[]) => Promise<pg.QueryResult> }).query = async (...args: unknown[]) => {
          const result = await query(...args);
          const text = typeof args[0] === 'string' ? args[0] : '';
          // After the first statement (which sets it) and before the last (which resets it).
          if (statements++ > 0 && !/RESET jit|ROLLBACK|COMMIT/.test(text)) seen.push(String((await query(`SELECT current_setting('jit') AS jit`)).rows[0].jit));
          return result;
        };
        return client;
      };
      try {
        const view = registeredViews().find((v) => v.name === 'eventstats.mv_job_facts')!;
        const result = await refreshView(pool, view, { ...REFRESH_OPTIONS, force: true });
        expect(result.outcome, result.error).to.equal('refreshed');
        expect(seen.length, 'statements observed').to.be.greaterThan(3);
        expect([...new Set(seen)]).to.deep.equal(['off']);
        const client = await connect();
        try {
          expect((await client.query(`SELECT current_setting('jit') AS jit`)).rows[0].jit, 'after the cycle').to.equal(serverDefault);
        } finally {
          client.release();
        }
      } finally {
        await pool.end();
      }
    });
  });

  describe('settings that break an assumption', () => {
    it('are none on the server as the suite starts it', async () => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const query = async (q: { text: string }) => (await client.query<ServerSettings>(q.text)).rows;
        for (const user of ['worker', 'refresh', 'migrate'] as const) expect(await checkServerSettings(query, user), user).to.deep.equal([]);
      } finally {
        await client.end();
      }
    });

    it('are named in one line each by npm run migrate, which still applies the migrations', async () => {
      const fresh = await createTestDatabase({ migrate: false });
      try {
        await fresh.pool.query(`ALTER DATABASE ${fresh.name} SET statement_timeout = '30s'`);
        const run = await runScript('src/cli/migrate.ts', [], { DATABASE_URL: fresh.url });
        expect(run.code, run.stderr).to.equal(0);
        expect(run.stdout).to.match(/^applied \d+ migration\(s\): 1764000000000_source-tables, /);
        const lines = run.stderr.trim().split('\n');
        expect(lines).to.have.length(1);
        expect(lines[0]).to.match(/^migrate: warning: statement_timeout is 30000 ms for this role or database: .* PGOPTIONS='-c statement_timeout=0'$/);
        const again = await runScript('src/cli/migrate.ts', [], { DATABASE_URL: fresh.url, PGOPTIONS: '-c statement_timeout=0' });
        expect(again).to.include({ code: 0, stdout: 'no pending migrations\n', stderr: '' });
      } finally {
        await fresh.drop();
      }
    });

    (ownServer ? it : it.skip)('are named by npm run refresh when track_counts is off (a superuser setting), and the cycles still run', async () => {
      const superuser = new URL(process.env[SUPERUSER_URL_ENV]!);
      superuser.pathname = `/${db.name}`;
      await scalar(superuser.toString(), `ALTER DATABASE ${db.name} SET track_counts = off`);
      try {
        const run = await runScript('src/cli/refresh.ts', [], { DATABASE_URL: db.url });
        expect(run.code, run.stderr).to.equal(0);
        expect(run.stderr).to.match(/^refresh: warning: track_counts is off: .* set track_counts = on\n$/);
        expect(run.stdout.trim().split('\n')).to.have.length(registeredViews().length);
      } finally {
        await scalar(superuser.toString(), `ALTER DATABASE ${db.name} RESET track_counts`);
      }
    });
  });
});
