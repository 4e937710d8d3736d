/**
 * `npm run migration:query -- <query> [--dir DIR]` as a user runs it: the file it writes, what it
 * refuses, and that the migration it writes applies after the committed ones.
 */
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { runner } from 'node-pg-migrate';
import { MIGRATIONS_DIR, MIGRATIONS_TABLE } from '../../../src/db/migrate.ts';
import { upSection } from '../../../src/maintenance/ddl.ts';
import { runScript } from '../../helpers/command.ts';
import { createTestDatabase } from '../../helpers/database.ts';

const ROOT = path.join(import.meta.dirname, '../../..');

const migrationQuery = (args: readonly string[]) => runScript('src/cli/migration-query.ts', args);

describe('npm run migration:query', function () {
  this.timeout(180_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-migrations-'));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it("writes the migration of the view a query reads (a shared view's, named after it), whose Up section is the committed one's while its declaration is unchanged, and which applies after them", async () => {
    const before = new Set(await readdir(dir));
    const run = await migrationQuery(['failed_jobs', '--dir', dir]);
    expect(run.code, run.stderr).to.equal(0);
    const added = (await readdir(dir)).filter((f) => !before.has(f));
    expect(added).to.have.length(1);
    expect(added[0]).to.match(/^\d{13}_query-job-facts\.sql$/);
    expect(run.stdout.trim()).to.equal(path.relative(ROOT, path.join(dir, added[0]!)));
    const committed = [...before].filter((f) => f.endsWith('_query-job-facts.sql')).sort().at(-1)!;
    const [written, last] = await Promise.all([readFile(path.join(dir, added[0]!), 'utf8'), readFile(path.join(dir, committed), 'utf8')]);
    // The header names the declaration's file where it is now; the committed one, where it was then.
    expect(written).to.include('-- src/declarations/ (src/declarations/job-facts.ts). Never edit it');
    const sourceLine = /^-- \S+\/ \(\S+\.ts\)\. Never edit it.*$/m;
    expect(upSection(written).replace(sourceLine, '')).to.equal(upSection(last).replace(sourceLine, ''));

    const db = await createTestDatabase({ migrate: false });
    try {
      const applied = await runner({ databaseUrl: db.url, dir, migrationsTable: MIGRATIONS_TABLE, direction: 'up', checkOrder: true, log: () => {} });
      expect(applied.at(-1)?.name).to.equal(added[0]!.replace(/\.sql$/, ''));
      const { rows } = await db.pool.query(`SELECT ispopulated FROM pg_matviews WHERE schemaname = 'eventstats' AND matviewname = 'mv_job_facts'`);
      expect(rows).to.deep.equal([{ ispopulated: true }]);
    } finally {
      await db.drop();
    }
  });

  it('refuses an unknown query with exit 2, naming the registered ones, and writes nothing', async () => {
    const before = await readdir(dir);
    const run = await migrationQuery(['no_such_query', '--dir', dir]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/^migration:query: unknown query 'no_such_query'; registered: failed_jobs, /);
    expect(await readdir(dir)).to.deep.equal(before);
  });

  it('refuses no query, or two, with exit 2 and its usage', async () => {
    for (const args of [[], ['failed_jobs', 'job_status_trend']]) {
      const run = await migrationQuery([...args, '--dir', dir]);
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stderr, args.join(' ')).to.include('name exactly one query\nusage: npm run migration:query -- <query> [--dir DIR]');
    }
  });
});
