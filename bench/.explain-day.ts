import pg from 'pg';
import { Params } from '../src/db/sql.ts';
import { mergeIntoHistorySql, relationsOf } from '../src/maintenance/sql.ts';
import { SOURCES } from '../src/maintenance/sources.ts';
import { registeredViews } from '../src/queries/index.ts';
const DAY = 86_400_000;
const pool = new pg.Pool({ connectionString: process.env.URL });
const day = Math.floor((Date.now() - 20 * DAY) / DAY) * DAY;
for (const v of registeredViews()) {
  if (process.argv[2] && !v.name.includes(process.argv[2])) continue;
  const spec = v.spec; const source = SOURCES[spec.facts.source];
  const st = (await pool.query('SELECT * FROM eventstats.maintenance WHERE view_name=$1', [spec.view])).rows[0];
  const ctx = { client: pool, spec, sealedTo: Number(st.sealed_to), idFrom: Number(st.id_watermark), idTo: Number(st.id_watermark), fineFrom: Number(st.fine_from) } as any;
  const p = new Params();
  const sel = source.sealSelection(ctx, day, day + DAY, p);
  const fine = p.add(ctx.fineFrom);
  const sql = mergeIntoHistorySql(spec, sel, `${fine}::bigint`);
  const c = await pool.connect();
  await c.query('BEGIN');
  let t = performance.now();
  const del = await c.query(`EXPLAIN (ANALYZE, BUFFERS) DELETE FROM ${relationsOf(spec).history} WHERE bucket >= $1 AND bucket < $2`, [day, day + DAY]);
  const tDel = performance.now() - t; t = performance.now();
  const r = await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, p.values);
  const tIns = performance.now() - t;
  await c.query('ROLLBACK'); c.release();
  console.log(`== ${spec.view} delete ${tDel.toFixed(0)} ms, merge ${tIns.toFixed(0)} ms`);
  if (process.env.V) { console.log(del.rows.map((x) => x['QUERY PLAN']).join('\n')); console.log(r.rows.map((x) => x['QUERY PLAN']).join('\n')); }
}
await pool.end();
