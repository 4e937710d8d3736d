import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { TABLES } from '../../src/db/tables.ts';
import { AlreadySeededError, seed, SHAPE, type SeedResult } from '../../src/seed/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const END = 1_764_000_000_123;
const DAYS = 30;
const RUNS = 3_000;
const WINDOW_START = END - DAYS * 86_400_000;

interface Fingerprint {
  runs: string;
  jobs: string;
  status: string;
}

/** Every column of every row, in a fixed order: equal fingerprints mean byte-identical tables. */
async function fingerprint(db: TestDatabase): Promise<Fingerprint> {
  const md5 = async (table: string, order: string) =>
    (await db.pool.query<{ md5: string }>(`SELECT md5(string_agg(t::text, '|' ORDER BY ${order})) AS md5 FROM ${table} t`)).rows[0]?.md5 ?? '';
  return {
    runs: await md5(TABLES.runs, 'event_id'),
    jobs: await md5(TABLES.runsJobs, 'internal_id'),
    status: await md5(TABLES.statusChange, 'job_id'),
  };
}

async function scalar(db: TestDatabase, sql: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: string | number }>(sql);
  return Number(rows[0]?.n);
}

interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliOutcome> {
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/seed.ts', ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('seed (real PostgreSQL)', () => {
  let first: TestDatabase;
  let second: TestDatabase;
  let result: SeedResult;
  const progress: number[] = [];

  before(async () => {
    [first, second] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    result = await seed(first.pool, { runs: RUNS, seed: 7, days: DAYS, end: END, batchRuns: 700 }, (p) => progress.push(p.runs));
  });
  after(async () => {
    await Promise.all([first?.drop(), second?.drop()]);
  });

  it('writes the counts it reports, about five jobs and one status row per run', async () => {
    expect(result).to.include({ runs: RUNS, statusRows: RUNS, seed: 7, windowStart: WINDOW_START, windowEnd: END });
    expect(await scalar(first, `SELECT count(*) AS n FROM ${TABLES.runs}`)).to.equal(RUNS);
    expect(await scalar(first, `SELECT count(*) AS n FROM ${TABLES.runsJobs}`)).to.equal(result.jobs);
    expect(await scalar(first, `SELECT count(*) AS n FROM ${TABLES.statusChange}`)).to.equal(RUNS);
    expect(result.jobs / RUNS).to.be.closeTo(SHAPE.jobsPerRun.mean, 0.25);
  });

  it('reports progress after every batch, spreading the runs evenly over ceil(3000 / 700) batches', () => {
    expect(progress).to.deep.equal([600, 1200, 1800, 2400, 3000]);
  });

  it('gives every job a run and every run a job', async () => {
    expect(
      await scalar(first, `SELECT count(*) AS n FROM ${TABLES.runsJobs} j WHERE NOT EXISTS (SELECT 1 FROM ${TABLES.runs} r WHERE r.event_id = j.event_id)`),
    ).to.equal(0);
    expect(
      await scalar(first, `SELECT count(*) AS n FROM ${TABLES.runs} r WHERE NOT EXISTS (SELECT 1 FROM ${TABLES.runsJobs} j WHERE j.event_id = r.event_id)`),
    ).to.equal(0);
    expect(await scalar(first, `SELECT count(DISTINCT event_id) AS n FROM ${TABLES.runs}`)).to.equal(RUNS);
  });

  it('keeps every timestamp inside the window, at millisecond precision', async () => {
    const { rows } = await first.pool.query<Record<string, string | null>>(
      `SELECT min(timestamp_start)::text AS min_start, max(timestamp_start)::text AS max_start,
              max(timestamp_end)::text AS max_end, count(*) FILTER (WHERE timestamp_start % 1000 <> 0)::text AS ms
         FROM ${TABLES.runs}`,
    );
    const r = rows[0] ?? {};
    expect(Number(r.min_start)).to.be.at.least(WINDOW_START);
    expect(Number(r.max_start)).to.be.below(END);
    expect(Number(r.max_end)).to.be.below(END);
    expect(Number(r.ms)).to.be.above(RUNS * 0.98);
    expect(
      await scalar(
        first,
        `SELECT count(*) AS n FROM ${TABLES.runsJobs} j JOIN ${TABLES.runs} r USING (event_id)
          WHERE j.timestamp_start < r.timestamp_start OR j.timestamp_end >= ${END}`,
      ),
    ).to.equal(0);
    expect(
      await scalar(
        first,
        `SELECT count(*) AS n FROM ${TABLES.statusChange}
          WHERE created_at < to_timestamp(${WINDOW_START} / 1000.0) OR created_at >= to_timestamp(${END} / 1000.0)
             OR last_updated_at >= to_timestamp(${END} / 1000.0) OR started_at < created_at OR finished_at < started_at`,
      ),
    ).to.equal(0);
    // created_at keeps the milliseconds it was generated with, not rounded to seconds.
    expect(await scalar(first, `SELECT count(*) AS n FROM ${TABLES.statusChange} WHERE date_trunc('second', created_at) <> created_at`)).to.be.above(RUNS * 0.98);
    expect(await scalar(first, `SELECT count(*) AS n FROM ${TABLES.statusChange} WHERE date_trunc('milliseconds', created_at) <> created_at`)).to.equal(0);
  });

  it('never puts a catalog under two source apps, nor a source app under two tenants', async () => {
    expect(
      await scalar(
        first,
        `SELECT count(*) AS n FROM (SELECT j.catalog_id FROM ${TABLES.runsJobs} j JOIN ${TABLES.runs} r USING (event_id)
          GROUP BY j.catalog_id HAVING count(DISTINCT r.source_app) > 1) x`,
      ),
    ).to.equal(0);
    expect(
      await scalar(first, `SELECT count(*) AS n FROM (SELECT source_app FROM ${TABLES.runs} GROUP BY source_app HAVING count(DISTINCT tenant_id) > 1) x`),
    ).to.equal(0);
  });

  it('stores the statuses, cases and messages the queries must handle', async () => {
    const { rows } = await first.pool.query<{ status: string }>(`SELECT DISTINCT lower(status) AS status FROM ${TABLES.runsJobs} ORDER BY 1`);
    expect(rows.map((r) => r.status)).to.deep.equal(['failed', 'killed', 'skipped', 'succeeded']);
    expect(await scalar(first, `SELECT count(*) AS n FROM ${TABLES.runsJobs} WHERE status <> lower(status)`)).to.be.above(0);
    expect(await scalar(first, `SELECT count(*) AS n FROM ${TABLES.runsJobs} WHERE lower(status) = 'failed' AND message IS NULL`)).to.equal(0);
    expect(await scalar(first, `SELECT count(*) AS n FROM ${TABLES.runsJobs} WHERE lower(status) = 'failed' AND message ILIKE '%no data%'`)).to.be.above(0);
    expect(await scalar(first, `SELECT count(*) AS n FROM ${TABLES.runsJobs} WHERE message ILIKE '%no records to send%'`)).to.be.above(0);
    expect(await scalar(first, `SELECT count(*) AS n FROM ${TABLES.runs} WHERE tenant_id <> lower(tenant_id)`)).to.be.above(0);
    expect(await scalar(first, `SELECT count(*) AS n FROM ${TABLES.runsJobs} WHERE country IS NULL`)).to.be.above(0);
    expect(await scalar(first, `SELECT count(*) AS n FROM ${TABLES.runsJobs} WHERE additional_info ? 'rows'`)).to.be.above(0);
    expect(await scalar(first, `SELECT count(*) AS n FROM ${TABLES.statusChange} WHERE status_type IS NULL`)).to.be.above(0);
  });

  it('writes byte-identical tables for the same seed and end in a fresh database', async () => {
    await seed(second.pool, { runs: RUNS, seed: 7, days: DAYS, end: END });
    expect(await fingerprint(second)).to.deep.equal(await fingerprint(first));
  });

  it('writes different rows for another seed', async () => {
    await second.pool.query(`TRUNCATE ${TABLES.runs}, ${TABLES.runsJobs}, ${TABLES.statusChange} RESTART IDENTITY`);
    await seed(second.pool, { runs: RUNS, seed: 8, days: DAYS, end: END });
    const [a, b] = [await fingerprint(first), await fingerprint(second)];
    expect(b.runs).to.not.equal(a.runs);
    expect(b.status).to.not.equal(a.status);
  });

  it('refuses to write the same seed and end twice into one database, writing nothing', async () => {
    const err = await seed(first.pool, { runs: RUNS, seed: 7, days: DAYS, end: END }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(AlreadySeededError);
    expect(await scalar(first, `SELECT count(*) AS n FROM ${TABLES.runsJobs}`)).to.equal(result.jobs);
    expect(await scalar(first, `SELECT count(*) AS n FROM ${TABLES.runs}`)).to.equal(RUNS);
  });

  it('adds to a seeded database when only the window end differs', async () => {
    const before = await scalar(first, `SELECT count(*) AS n FROM ${TABLES.runs}`);
    await seed(first.pool, { runs: 100, seed: 7, days: DAYS, end: END + 1 });
    expect(await scalar(first, `SELECT count(*) AS n FROM ${TABLES.runs}`)).to.equal(before + 100);
  });

  it('fails with SQLSTATE 42P01 and writes nothing when the tables do not exist', async () => {
    const bare = await createTestDatabase({ migrate: false });
    try {
      const err = await seed(bare.pool, { runs: 10, end: END }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.have.property('code', '42P01');
    } finally {
      await bare.drop();
    }
  });

  describe('npm run seed', function () {
    this.timeout(120_000);

    it('exits 2 with a one-line hint when DATABASE_URL is not set', async () => {
      const out = await runCli(['--runs', '10'], { DATABASE_URL: undefined });
      expect(out.code).to.equal(2);
      expect(out.stderr.trim().split('\n')).to.have.length(1);
      expect(out.stderr).to.match(/DATABASE_URL is not set.*npm start/);
    });

    it('exits 2 with the usage on bad arguments, without a stack trace', async () => {
      const out = await runCli(['--runs', 'lots'], { DATABASE_URL: undefined });
      expect(out.code).to.equal(2);
      expect(out.stderr).to.match(/^seed: --runs must be a non-negative integer/);
      expect(out.stderr).to.contain('usage: npm run seed');
      expect(out.stderr).to.not.match(/\n\s+at /);
    });

    it('exits 1 telling the operator to migrate when the tables are missing', async () => {
      const bare = await createTestDatabase({ migrate: false });
      try {
        const out = await runCli(['--runs', '10'], { DATABASE_URL: bare.url });
        expect(out.code).to.equal(1);
        expect(out.stderr.trim().split('\n')).to.have.length(1);
        expect(out.stderr).to.match(/source tables do not exist.*npm run migrate/);
      } finally {
        await bare.drop();
      }
    });

    it('seeds and prints one summary line when not on a terminal', async () => {
      const db = await createTestDatabase();
      try {
        const out = await runCli(['--runs', '50', '--seed', '3', '--end', String(END)], { DATABASE_URL: db.url });
        expect(out.code, out.stderr).to.equal(0);
        expect(out.stderr.trim().split('\n')).to.have.length(1);
        expect(out.stderr).to.match(/^seeded 50 runs, \d+ jobs, 50 status rows .* rows\/s; seed 3, window /);
        expect(await scalar(db, `SELECT count(*) AS n FROM ${TABLES.runs}`)).to.equal(50);
      } finally {
        await db.drop();
      }
    });
  });
});
