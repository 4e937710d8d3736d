import pg from 'pg';
import { createExecutor } from '../src/db/executor.ts';
import { prepareQuery } from '../src/queries/execute.ts';
import { findQuery } from '../src/queries/index.ts';
import { partsStatements } from '../src/queries/parts-statement.ts';
import { dashboardWindow } from './compiled.ts';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
const { rows } = await pool.query(`SELECT least(max(timestamp_start), floor(extract(epoch FROM now()) * 1000))::bigint AS end FROM public_cps_za_runs`);
const now = Number(rows[0].end);
for (const name of (process.argv[2] ?? 'failed_jobs').split(',')) {
  const q = findQuery('public.cps.za.runs', name)!;
  const w = dashboardWindow(now);
  const body = { timestamp_start: w.start, timestamp_end: w.end };
  const plan = q.plan({ params: prepareQuery(q, body, { kind: 'all' }, now).params as never, window: w, access: { kind: 'all' } });
  const s = await partsStatements(q.rollup, plan.parts, createExecutor(pool, 1), true);
  const st = s.warm!;
  for (let i = 0; i < 3; i++) await pool.query(st.text, st.values as unknown[]);
  const e = await pool.query(`EXPLAIN (ANALYZE, BUFFERS) ${st.text}`, st.values as unknown[]);
  console.log(`== ${name}\n` + e.rows.map((r) => r['QUERY PLAN']).join('\n'));
}
await pool.end();
