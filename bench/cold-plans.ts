/**
 * Where a cold read's time goes, per planner setting: each compiled query's benchmark request as
 * its cold statement (every segment read, as on a cache miss after a start), under EXPLAIN
 * (ANALYZE, BUFFERS) in the API's session setting (`jit = off`) plus each variant's settings, in a
 * transaction that is rolled back. Against a seeded, populated database (`npm run bench -- --keep`):
 *   DATABASE_URL=<url> VARIANTS='|random_page_cost=1.1' npx tsx bench/cold-plans.ts
 * VARIANTS: `|`-separated lists of `name=value,...`; an empty one is the server's settings. Each
 * statement runs once untimed first (the buffer cache warmed, as a cold read after a cycle finds it).
 */
import pg from 'pg';
import { SUPPORTED_QUERIES } from '../src/declarations/index.ts';
import { compiledStatements } from './compiled.ts';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL is required');
const variants = (process.env.VARIANTS ?? '|random_page_cost=1.1').split('|');
const pool = new pg.Pool({ connectionString: url, max: 1 });
try {
  const { rows } = await pool.query<{ end: string }>('SELECT max(timestamp_start)::text AS end FROM public_cps_za_runs');
  const now = Number(rows[0]!.end);
  for (const query of SUPPORTED_QUERIES) {
    const { cold } = await compiledStatements(query, pool, now);
    for (const variant of variants) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SET LOCAL jit = off');
        for (const kv of variant.split(',').filter(Boolean)) {
          const [name, value] = kv.split('=');
          await client.query('SELECT set_config($1, $2, true)', [name, value]);
        }
        await client.query(cold.text, cold.values as unknown[]);
        const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${cold.text}`, cold.values as unknown[])).rows.map((r) => r['QUERY PLAN']);
        const text = plan.join('\n');
        const execution = /Execution Time: ([0-9.]+) ms/.exec(text)?.[1];
        const buffers = /Buffers: shared hit=(\d+)(?: read=(\d+))?/.exec(plan[1] ?? '') ?? /Buffers: shared hit=(\d+)(?: read=(\d+))?/.exec(text);
        const scans = [...text.matchAll(/(Parallel Seq Scan|Seq Scan|Index Only Scan|Index Scan|Bitmap Heap Scan)(?: using \S+)? on (\w+)/g)]
          .filter((m) => m[2]!.endsWith('_history'))
          .map((m) => m[1]!);
        const counts = Object.entries(scans.reduce<Record<string, number>>((a, s) => ((a[s] = (a[s] ?? 0) + 1), a), {})).map(([k, v]) => `${v} ${k}`).join(', ');
        console.log(JSON.stringify({ query: query.name, variant: variant || 'server settings', executionMs: Number(execution), sharedHit: Number(buffers?.[1] ?? 0), sharedRead: Number(buffers?.[2] ?? 0), historyScans: counts }));
        if (process.env.PLANS) console.log(text);
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    }
  }
} finally {
  await pool.end();
}
