/**
 * Real-time answers under unabsorbed writes, side by side: for every query over the runs topic, the
 * p50 of its dashboard read (bench/compiled.ts's window, one connection) with nothing unabsorbed
 * (right after a cycle) and with one minute of the gateway's writes unabsorbed (~100 runs, 500 jobs,
 * 5 runs of them late by days), taking turns for a few rounds; then the same with ten minutes
 * unabsorbed (as when the worker is stopped). Each round starts with a cycle that absorbs everything.
 *
 * `npm run bench` runs it at every size; standalone, against a database prepared elsewhere
 * (bench/realtime-main.ts): npm run bench:realtime -- --database URL [--seconds S] [--rounds N]
 */
import pg from 'pg';
import { TABLES } from '../src/db/tables.ts';
import { queriesOf, registeredViews } from '../src/declarations/index.ts';
import { refreshView } from '../src/refresh/refresh-view.ts';
import { SHAPE } from '../src/seed/index.ts';
import { request } from './api.ts';
import { compiledTarget, dashboardWindow } from './compiled.ts';
import { measureLoad } from './load.ts';
import { median, ratio, round } from './stats.ts';

const RUNS_TOPIC = 'public.cps.za.runs';
const DAY_MS = 86_400_000;
const LIMITS = { statementTimeoutMs: 3_600_000, lockTimeoutMs: 60_000 } as const;

export interface RealtimeState {
  /** Minutes of writes left unabsorbed. */
  readonly minutes: number;
  readonly written: { readonly runs: number; readonly jobs: number; readonly lateRuns: number };
}

export interface RealtimeQuery {
  readonly query: string;
  /** p50 of each round: nothing unabsorbed, then with the state's writes unabsorbed. */
  readonly absorbedP50s: readonly number[];
  readonly unabsorbedP50s: readonly number[];
  readonly absorbedP50: number;
  readonly unabsorbedP50: number;
  readonly ratio: number | null;
  /** meta.tail_rows of the last unabsorbed round's sample answer, and whether it said realtime. */
  readonly tailRows: number | null;
  readonly realtime: boolean;
}

export interface RealtimeResult {
  readonly rounds: number;
  readonly durationS: number;
  readonly states: readonly (RealtimeState & { readonly queries: readonly RealtimeQuery[] })[];
}

/** One run and its jobs per transaction, as the gateway's writer does. */
async function write(pool: pg.Pool, now: number, minutes: number): Promise<RealtimeState['written']> {
  const client = await pool.connect();
  let runs = 0;
  let jobs = 0;
  let lateRuns = 0;
  try {
    for (let i = 0; i < 100 * minutes; i++) {
      const late = i % 20 === 19;
      const ts = late ? now - (1 + (i % 5)) * DAY_MS - i * 1000 : now - 1 - Math.floor(Math.random() * minutes * 60_000);
      const id = `realtime-${ts}-${Math.random().toString(36).slice(2)}`;
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO ${TABLES.runs} (event_id, job_ref, tenant_id, source_app, source_app_version, environment, timestamp_start, timestamp_end)
         VALUES ($1, 'ref', $2, 'pipeline-realtime', '1', 'prod', $3::bigint, $3::bigint + 60000)`,
        [id, `tenant-${String(i % 50).padStart(2, '0')}`, ts],
      );
      await client.query(
        `INSERT INTO ${TABLES.runsJobs} (event_id, country, catalog_id, status, timestamp_start, timestamp_end)
         SELECT $1, 'ZA', 'catalog-' || (i * 37 % ${SHAPE.catalogs}), CASE WHEN i % 20 = 0 THEN 'failed' ELSE 'succeeded' END, $2::bigint + i, $2::bigint + i + 30000
           FROM generate_series(1, 5) AS i`,
        [id, ts],
      );
      await client.query('COMMIT');
      runs += 1;
      jobs += 5;
      if (late) lateRuns += 1;
    }
  } finally {
    client.release();
  }
  return { runs, jobs, lateRuns };
}

/** A cycle of every runs-topic view: nothing is left unabsorbed. */
async function absorb(pool: pg.Pool): Promise<void> {
  for (const v of registeredViews().filter((r) => r.spec.facts.source === 'runs')) {
    const r = await refreshView(pool, v, LIMITS);
    if (r.outcome === 'failed') throw new Error(`${v.name}: ${r.error}`);
  }
}

export async function benchRealtime(ctx: {
  readonly baseUrl: string;
  readonly authorization: string;
  readonly pool: pg.Pool;
  /** The dashboard's now (the dataset's end): the window and the writes' times are placed from it. */
  readonly now: number;
  readonly settings: { readonly warmupS: number; readonly durationS: number };
  readonly rounds?: number;
  readonly log: (line: string) => void;
}): Promise<RealtimeResult> {
  const rounds = ctx.rounds ?? 3;
  const durationS = Math.max(1, ctx.settings.durationS / 2);
  const window = dashboardWindow(ctx.now);
  const body = { timestamp_start: window.start, timestamp_end: window.end };
  // Writes land in the window's last whole minutes, before the partial minute its raw edge reads
  // (so the tail, not the edge, must count them), and days back for the late runs.
  const writeAt = window.end - (((window.end % 60_000) + 60_000) % 60_000);
  const queries = queriesOf(RUNS_TOPIC);
  const states = [];
  for (const minutes of [1, 10]) {
    const absorbedP50s = new Map<string, number[]>(queries.map((q) => [q.name, []]));
    const unabsorbedP50s = new Map<string, number[]>(queries.map((q) => [q.name, []]));
    const samples = new Map<string, { tailRows: number | null; realtime: boolean }>();
    let written: RealtimeState['written'] = { runs: 0, jobs: 0, lateRuns: 0 };
    for (let i = 0; i < rounds; i++) {
      await absorb(ctx.pool);
      for (const q of queries) {
        const target = compiledTarget(ctx.baseUrl, `/stats/${RUNS_TOPIC}/query/${q.name}`, body, ctx.authorization);
        absorbedP50s.get(q.name)!.push((await measureLoad(target, 1, ctx.settings.warmupS, durationS)).latencyMs.p50);
      }
      written = await write(ctx.pool, writeAt, minutes);
      for (const q of queries) {
        const path = `/stats/${RUNS_TOPIC}/query/${q.name}`;
        const target = compiledTarget(ctx.baseUrl, path, body, ctx.authorization);
        unabsorbedP50s.get(q.name)!.push((await measureLoad(target, 1, ctx.settings.warmupS, durationS)).latencyMs.p50);
        const sample = (await request(`${ctx.baseUrl}${path}`, ctx.authorization, body)).json as { meta?: { tail_rows?: number | null; realtime?: boolean } };
        samples.set(q.name, { tailRows: sample.meta?.tail_rows ?? null, realtime: sample.meta?.realtime === true });
      }
      ctx.log(`    ${minutes} min unabsorbed, round ${i + 1}: ${queries.map((q) => `${q.name} ${absorbedP50s.get(q.name)!.at(-1)} -> ${unabsorbedP50s.get(q.name)!.at(-1)} ms`).join(', ')}`);
    }
    states.push({
      minutes,
      written,
      queries: queries.map((q) => {
        const a = round(median(absorbedP50s.get(q.name)!), 3);
        const u = round(median(unabsorbedP50s.get(q.name)!), 3);
        return {
          query: q.name,
          absorbedP50s: absorbedP50s.get(q.name)!,
          unabsorbedP50s: unabsorbedP50s.get(q.name)!,
          absorbedP50: a,
          unabsorbedP50: u,
          ratio: ratio(u, a),
          ...samples.get(q.name)!,
        };
      }),
    });
  }
  await absorb(ctx.pool);
  return { rounds, durationS, states };
}
