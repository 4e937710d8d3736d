/**
 * npm run bench:incremental -- --jobs N[,M] [--keep] [--database URL] [--skip-rebuild]: what a maintenance cycle
 * costs at each size. --database measures an existing database as it is (seeded only if empty; kept).
 *
 * Per size, on a database of its own: migrate, seed N jobs ending now, VACUUM ANALYZE, then
 *   1. a full rebuild of every view (history recomputed from the base tables): the "before" scale;
 *   2. a cycle with nothing changed (each view skipped);
 *   3. a "5-minute ingest" as the gateway writes it (~400 runs with ~1,850 jobs in the last minutes,
 *      one run and its jobs per transaction; 20 late runs 30 days back; 180 status upserts of rows
 *      created in the last 2 days, status and last_updated_at changed; 20 upserts of rows created
 *      10-60 days back that also change tenant_id), then the cycle that follows, every view at once
 *      as the worker's queues run it;
 *   4. sizes of history + view per query.
 * Writes bench/results/<date>-incremental-<sizes>.json and prints a table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migrateUp } from '../src/db/migrate.ts';
import { TABLES } from '../src/db/tables.ts';
import { relationsOf } from '../src/rollup/layout.ts';
import { registeredViews } from '../src/declarations/index.ts';
import { refreshView, type RefreshResult } from '../src/refresh/refresh-view.ts';
import { seed, SHAPE } from '../src/seed/index.ts';
import { startServer } from './database.ts';
import { Resources } from './processes.ts';

const LIMITS = { statementTimeoutMs: 3_600_000, lockTimeoutMs: 60_000 } as const;
const log = (line: string) => process.stdout.write(`${line}\n`);
const resources = new Resources();
process.once('exit', () => resources.releaseAtExit());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void resources.release(log).finally(() => process.exit(130)));

async function cycleAll(pool: pg.Pool, options: { rebuild?: boolean; parallel: boolean }) {
  const t0 = performance.now();
  const one = (v: (typeof views)[number]) => refreshView(pool, v, { ...LIMITS, rebuild: options.rebuild });
  const views = registeredViews();
  const results: RefreshResult[] = [];
  if (options.parallel) results.push(...(await Promise.all(views.map(one))));
  else for (const v of views) results.push(await one(v));
  const failed = results.filter((r) => r.outcome === 'failed');
  if (failed.length) throw new Error(failed.map((r) => `${r.view}: ${r.error}`).join('; '));
  return { wallMs: Math.round(performance.now() - t0), views: results.map((r) => ({ view: r.view, outcome: r.outcome, ms: r.durationMs, report: r.report })) };
}

async function ingest(pool: pg.Pool): Promise<{ runs: number; jobs: number; statusUpserts: number; ms: number }> {
  const t0 = performance.now();
  const now = Date.now();
  let jobs = 0;
  const client = await pool.connect();
  try {
    const run = async (ts: number, tenant: string, n: number) => {
      const id = `ingest-${ts}-${Math.random().toString(36).slice(2)}`;
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO ${TABLES.runs} (event_id, job_ref, tenant_id, source_app, source_app_version, environment, timestamp_start, timestamp_end)
         VALUES ($1, 'ref', $2, 'pipeline-ingest', '1', 'prod', $3::bigint, $3::bigint + 60000)`,
        [id, tenant, ts],
      );
      await client.query(
        `INSERT INTO ${TABLES.runsJobs} (event_id, country, catalog_id, status, timestamp_start, timestamp_end)
         SELECT $1, 'ZA', 'catalog-' || (i * 37 % ${SHAPE.catalogs}), CASE WHEN i % 20 = 0 THEN 'failed' ELSE 'succeeded' END, $2::bigint + i, $2::bigint + i + 30000
           FROM generate_series(1, $3::int) AS i`,
        [id, ts, n],
      );
      await client.query('COMMIT');
      jobs += n;
    };
    for (let i = 0; i < 400; i++) await run(now - Math.floor(Math.random() * 300_000), `tenant-${String(i % 50).padStart(2, '0')}`, 1 + (i % 9) + (i % 7 === 0 ? 1 : 0));
    for (let i = 0; i < 20; i++) await run(now - 30 * 86_400_000 - i * 60_000, `tenant-${String(i % 50).padStart(2, '0')}`, 5);
    const upsert = async (filter: string, n: number, moveTenant: boolean) => {
      const { rows } = await client.query<{ job_id: string }>(`SELECT job_id FROM ${TABLES.statusChange} WHERE ${filter} LIMIT ${n}`);
      for (const r of rows) {
        await client.query(
          `INSERT INTO ${TABLES.statusChange} (job_id, tenant_id, status_type, created_at, last_updated_at)
           VALUES ($1, $2, 'FAILED', now(), now())
           ON CONFLICT (job_id) DO UPDATE SET status_type = EXCLUDED.status_type, last_updated_at = EXCLUDED.last_updated_at,
             tenant_id = CASE WHEN $3 THEN EXCLUDED.tenant_id ELSE ${TABLES.statusChange}.tenant_id END`,
          [r.job_id, 'tenant-moved', moveTenant],
        );
      }
      return rows.length;
    };
    const recent = await upsert(`created_at > now() - interval '2 days' AND status_type IS DISTINCT FROM 'FAILED'`, 180, false);
    const old = await upsert(`created_at BETWEEN now() - interval '60 days' AND now() - interval '10 days' AND status_type IS DISTINCT FROM 'FAILED'`, 20, true);
    return { runs: 420, jobs, statusUpserts: recent + old, ms: Math.round(performance.now() - t0) };
  } finally {
    client.release();
  }
}

async function sizes(pool: pg.Pool) {
  const out = [];
  for (const v of registeredViews()) {
    const { history } = relationsOf(v.spec);
    const { rows } = await pool.query<{ h: number; v: number; hr: number; vr: number }>(
      `SELECT pg_total_relation_size($1::regclass)::float8 AS h, pg_total_relation_size($2::regclass)::float8 AS v,
              (SELECT count(*) FROM ${history})::float8 AS hr, (SELECT count(*) FROM ${v.name})::float8 AS vr`,
      [history, v.name],
    );
    out.push({ view: v.name, historyBytes: rows[0]!.h, viewBytes: rows[0]!.v, historyRows: rows[0]!.hr, viewRows: rows[0]!.vr });
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { jobs: { type: 'string', default: '1000000' }, keep: { type: 'boolean', default: false }, database: { type: 'string' }, 'skip-rebuild': { type: 'boolean', default: false } },
  });
  const server = values.database
    ? { createDatabase: async () => ({ url: values.database!, drop: async () => {} }) }
    : await startServer(process.env.DATABASE_URL, values.keep, resources, log);
  const out: Record<string, unknown>[] = [];
  for (const jobs of values.jobs.split(',').map(Number)) {
    const { url, drop } = await server.createDatabase(`inc${jobs}`);
    await migrateUp(url);
    const pool = new pg.Pool({ connectionString: url, max: 6 });
    pool.on('error', () => {});
    try {
      const t0 = performance.now();
      const { rows: present } = await pool.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM ${TABLES.runsJobs}`);
      const seeded = present[0]!.n > 0 ? { jobs: present[0]!.n } : await seed(pool, { runs: Math.round(jobs / SHAPE.jobsPerRun.mean), end: Date.now() });
      log(`${jobs}: ${seeded.jobs} jobs (${Math.round((performance.now() - t0) / 1000)} s to seed or count)`);
      await pool.query('VACUUM ANALYZE');
      const first = await cycleAll(pool, { parallel: false });
      log(`${jobs}: first cycle (seals everything the migration's view held, unless done) ${first.wallMs} ms`);
      await pool.query('VACUUM ANALYZE');
      const unchanged = await cycleAll(pool, { parallel: true });
      log(`${jobs}: nothing changed: ${unchanged.wallMs} ms ${JSON.stringify(unchanged.views.map((v) => [v.view, v.outcome, v.ms]))}`);
      const cycles = [];
      for (let round = 0; round < 3; round++) {
        const written = await ingest(pool);
        const cycle = await cycleAll(pool, { parallel: true });
        log(`${jobs}: after a 5-minute ingest (${JSON.stringify(written)}): cycle ${cycle.wallMs} ms ${JSON.stringify(cycle.views.map((v) => [v.view, v.ms]))}`);
        cycles.push({ written, cycle });
      }
      const unchangedAfter = await cycleAll(pool, { parallel: true });
      log(`${jobs}: nothing changed since: ${unchangedAfter.wallMs} ms ${JSON.stringify(unchangedAfter.views.map((v) => [v.view, v.outcome, v.ms]))}`);
      const unchangedSequential = await cycleAll(pool, { parallel: false });
      log(`${jobs}: nothing changed, one view after another: ${JSON.stringify(unchangedSequential.views.map((v) => [v.view, v.outcome, v.ms]))}`);
      // A retention job's partial delete in one sealed day: its facts are subtracted, or their buckets recomputed.
      await pool.query(
        `DELETE FROM ${TABLES.runsJobs} WHERE internal_id IN (SELECT j.internal_id FROM ${TABLES.runs} r JOIN ${TABLES.runsJobs} j ON j.event_id = r.event_id
          WHERE r.timestamp_start BETWEEN $1 AND $1 + 3600000 LIMIT 20)`,
        [Date.now() - 20 * 86_400_000],
      );
      const afterDelete = await cycleAll(pool, { parallel: false });
      log(`${jobs}: after deleting 20 jobs of a day 20 days back, one view after another: ${JSON.stringify(afterDelete.views.map((v) => [v.view, v.ms, v.report?.recomputedDays, v.report?.deletedFacts]))}`);
      const viewSizes = await sizes(pool);
      const rebuild = values['skip-rebuild'] ? null : await cycleAll(pool, { rebuild: true, parallel: false });
      if (rebuild) log(`${jobs}: full rebuild, one view after another: ${rebuild.wallMs} ms ${JSON.stringify(rebuild.views.map((v) => [v.view, v.ms]))}`);
      out.push({ jobs: seeded.jobs, first, unchanged, cycles, unchangedAfter, unchangedSequential, afterDelete, rebuild, sizes: viewSizes });
      log(JSON.stringify(out.at(-1)!.sizes));
    } finally {
      await pool.end();
      await drop();
    }
  }
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${new Date().toISOString().slice(0, 10)}-incremental-${values.jobs.replace(/,/g, '_')}.json`;
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  log(`wrote ${file}`);
  await resources.release(log);
}

await main();
