/**
 * EXPLAIN (ANALYZE, BUFFERS) of every compiled query's default dashboard request, side by side with
 * the same aggregation computed on the fly over the base tables. Against DATABASE_URL, or a
 * throwaway embedded PostgreSQL seeded with --runs runs (≈5 jobs each).
 *   npx tsx bench/explain.ts --runs 200000
 */
import { mkdtemp, rm, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { EmbeddedDatabase } from '../src/db/embedded.ts';
import { migrateUp } from '../src/db/migrate.ts';
import { prepareQuery } from '../src/queries/execute.ts';
import { registeredViews, SUPPORTED_QUERIES } from '../src/queries/index.ts';
import { refreshViews } from '../src/refresh/refresh-view.ts';
import { seed } from '../src/seed/index.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20000' }, port: { type: 'string', default: '54400' } } });
const runs = Number(values.runs);
let embedded: EmbeddedDatabase | undefined;
let dir: string | undefined;
let url = process.env.DATABASE_URL;
if (!url) {
  dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-explain-'));
  await chmod(dir, 0o755);
  embedded = new EmbeddedDatabase({ dir, port: Number(values.port), persistent: false, database: 'bench' });
  url = await embedded.start();
}
const pool = new pg.Pool({ connectionString: url, max: 2 });
try {
  await migrateUp(url);
  const now = Date.now();
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM public_cps_za_runs_jobs');
  if (rows[0].n === 0) {
    const r = await seed(pool, { runs, end: now });
    console.log(`seeded ${r.jobs} jobs in ${r.ms} ms`);
  }
  await pool.query('VACUUM ANALYZE');
  const t0 = performance.now();
  const refreshed = await refreshViews(pool, registeredViews(), { statementTimeoutMs: 3_600_000, lockTimeoutMs: 10_000, force: true });
  console.log(`refresh all: ${(performance.now() - t0).toFixed(0)} ms`, refreshed.map((x) => `${x.view}=${x.outcome}/${x.durationMs}ms`).join(' '));
  const t1 = performance.now();
  const again = await refreshViews(pool, registeredViews(), { statementTimeoutMs: 60_000, lockTimeoutMs: 10_000 });
  console.log(`unchanged refresh all: ${(performance.now() - t1).toFixed(1)} ms`, again.map((x) => x.outcome).join(','));
  for (const v of registeredViews()) {
    const s = await pool.query(`SELECT count(*)::int AS n, pg_size_pretty(pg_total_relation_size('${v.name}')) AS size FROM ${v.name}`);
    console.log(`${v.name}: ${s.rows[0].n} rows, ${s.rows[0].size}`);
  }
  await pool.query('ANALYZE');
  // unaligned millisecond bounds: the exact-edge path is exercised
  const body = { timestamp_start: now - 7 * 86_400_000 + 12_345, timestamp_end: now - 54_321 };
  for (const q of SUPPORTED_QUERIES) {
    const prepared = prepareQuery(q, body, { kind: 'all' }, now);
    const built = q.build({ params: prepared.params as never, window: { start: body.timestamp_start, end: body.timestamp_end }, access: { kind: 'all' } });
    const times: number[] = [];
    let plan = '';
    for (let i = 0; i < 7; i++) {
      const res = await pool.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${built.sql.text}`, built.sql.values as unknown[]);
      const p = res.rows[0]['QUERY PLAN'][0];
      times.push(p['Execution Time'] + p['Planning Time']);
      plan = `shared hit=${p.Plan['Shared Hit Blocks']} read=${p.Plan['Shared Read Blocks']}`;
    }
    times.sort((a, b) => a - b);
    console.log(`${q.name}: median ${times[3]!.toFixed(2)} ms (planning+execution), ${plan}`);
  }
  const fly = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await pool.query(
      `SELECT r.tenant_id, r.source_app, count(*) FILTER (WHERE lower(j.status)='failed') f, count(*) n, max(j.timestamp_end) FILTER (WHERE lower(j.status)='failed')
         FROM public_cps_za_runs r JOIN public_cps_za_runs_jobs j ON j.event_id = r.event_id
        WHERE r.timestamp_start BETWEEN $1 AND $2 GROUP BY 1, 2 HAVING count(*) FILTER (WHERE lower(j.status)='failed') > 0 ORDER BY 3 DESC, 1, 2 LIMIT 101`,
      [body.timestamp_start, body.timestamp_end],
    );
    fly.push(performance.now() - t);
  }
  fly.sort((a, b) => a - b);
  console.log(`failed_jobs computed on the fly over the base tables: median ${fly[1]!.toFixed(1)} ms`);
} finally {
  await pool.end();
  await embedded?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}
