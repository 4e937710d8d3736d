/**
 * Custom against generic plans of every compiled query's per-request statement (the `days: 7`
 * window's raw edges, and with the real-time tail for the runs topic), as docs/ARCHITECTURE.md
 * "Prepared statements" reports them: a fresh database of JOBS jobs (default 1M) on DATABASE_URL's
 * server, or on a throwaway embedded PostgreSQL without it; each statement run 12 times named (what
 * PostgreSQL chooses by itself: pg_prepared_statements' generic_plans and custom_plans), then
 * EXPLAIN (ANALYZE, BUFFERS) 7 times under each plan_cache_mode (medians). One JSON line per statement:
 *   JOBS=1000000 flock -x /tmp/es-cpu.lock npx tsx bench/generic-plans.ts
 * KEEP=1 with DATABASE_URL keeps the database (its URL on stderr) for EXPLAIN by hand; REUSE=<its name>
 * measures it again without seeding. `named` is the generic plan as the API runs it (no parallel workers).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
// pg's own value conversion, to write EXECUTE's arguments as the protocol would send them.
// @ts-expect-error pg ships no types for its utils
import utils from 'pg/lib/utils.js';
import { EmbeddedDatabase } from '../src/db/embedded.ts';
import { GENERIC_PLANS, SESSION_PLANS } from '../src/db/prepared.ts';
import { createExecutor } from '../src/db/executor.ts';
import { SUPPORTED_QUERIES } from '../src/declarations/index.ts';
import { prepareQuery } from '../src/read/execute.ts';
import { partsStatements } from '../src/read/parts-statement.ts';
import { withClient } from '../test/helpers/pg-client.ts';
import { prepareDataset } from './dataset.ts';
import { freePort } from './processes.ts';

interface PlanJson {
  readonly 'Planning Time': number;
  readonly 'Execution Time': number;
  readonly Plan: { readonly 'Total Cost': number; readonly 'Shared Hit Blocks': number };
}

async function compare(url: string, end: number): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const executor = createExecutor(pool, { retryAfterSeconds: 1, preparedMax: 0 });
    for (const q of SUPPORTED_QUERIES) {
      for (const realtime of [false, true]) {
        if (realtime && q.rollup.facts.source !== 'runs') continue;
        const prepared = prepareQuery(q, { days: 7 }, { kind: 'all' }, end);
        const window = { start: prepared.params.timestamp_start as number, end: prepared.params.timestamp_end as number };
        const plan = q.plan({ params: prepared.params as never, window, access: { kind: 'all' } });
        const tail = realtime ? { cached: { stableTo: end, pending: [] }, stableTo: end } : undefined;
        const statement = (await partsStatements(q.rollup, plan.parts, executor, tail)).warm;
        if (!statement) continue;
        const c = await pool.connect();
        try {
          await c.query('SET jit = off');
          // A protocol-level name of its own per statement: pg remembers each name it parsed on a client.
          const auto = `eventstats_auto_${q.name}_${realtime}`;
          for (let i = 0; i < 12; i++) await c.query({ name: auto, text: statement.text, values: statement.values as unknown[] });
          const chosen = (await c.query('SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1', [auto])).rows[0] as object;
          await c.query(`PREPARE eventstats_plans AS ${statement.text}`);
          const args = statement.values.map((v) => (v === null ? 'NULL' : c.escapeLiteral(String(utils.prepareValue(v))))).join(', ');
          const under = async (mode: string) => {
            await c.query(`SET plan_cache_mode = ${mode}`);
            const runs: PlanJson[] = [];
            for (let i = 0; i < 7; i++) {
              const r = await c.query<{ 'QUERY PLAN': PlanJson[] }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE eventstats_plans(${args})`);
              runs.push(r.rows[0]!['QUERY PLAN'][0]!);
            }
            const median = (f: (p: PlanJson) => number) => runs.map(f).sort((a, b) => a - b)[3];
            const last = runs.at(-1)!;
            return { planningMs: median((p) => p['Planning Time']), executionMs: median((p) => p['Execution Time']), cost: last.Plan['Total Cost'], sharedHit: last.Plan['Shared Hit Blocks'] };
          };
          const custom = await under('force_custom_plan');
          const generic = await under('force_generic_plan');
          // As the API runs a named statement (src/db/prepared.ts GENERIC_PLANS): no parallel workers
          // either, from its first plan on (a generic plan, once made, is kept whatever changes after).
          await c.query('DEALLOCATE eventstats_plans');
          await c.query(GENERIC_PLANS);
          await c.query(`PREPARE eventstats_plans AS ${statement.text}`);
          const named = await under('force_generic_plan');
          await c.query(SESSION_PLANS);
          process.stdout.write(`${JSON.stringify({ query: q.name, realtime, chosen, custom, generic, named })}\n`);
        } finally {
          await c.query('DEALLOCATE eventstats_plans').catch(() => {});
          // The next statement's own choice is what `chosen` reports: the session's default again.
          await c.query('RESET plan_cache_mode');
          c.release();
        }
      }
    }
  } finally {
    await pool.end();
  }
}

const jobs = Number(process.env.JOBS ?? 1_000_000);
let admin = process.env.DATABASE_URL;
let embedded: EmbeddedDatabase | undefined;
let dir: string | undefined;
try {
  if (!admin) {
    dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-plans-'));
    await chmod(dir, 0o755);
    embedded = new EmbeddedDatabase({ dir, port: await freePort(), persistent: false, database: 'postgres' });
    admin = await embedded.start();
  }
  // REUSE=<name> (with DATABASE_URL): a database an earlier KEEP=1 run left, measured again as it is.
  const name = process.env.REUSE ?? `eventstats_plans_${process.pid}`;
  if (!process.env.REUSE) await withClient(admin, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  try {
    const end = process.env.REUSE
      ? await withClient(url.toString(), async (c) => Number((await c.query<{ end: string }>('SELECT max(timestamp_start)::text AS end FROM public_cps_za_runs')).rows[0]!.end))
      : (await prepareDataset(url.toString(), jobs, 42, () => {})).end;
    await compare(url.toString(), end);
  } finally {
    // KEEP=1 (with DATABASE_URL): the database stays, for EXPLAIN by hand; its URL goes to stderr.
    if (process.env.KEEP && process.env.DATABASE_URL) process.stderr.write(`kept ${url.toString()}\n`);
    else await withClient(admin, (c) => c.query(`DROP DATABASE ${name} WITH (FORCE)`));
  }
} finally {
  await embedded?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}
