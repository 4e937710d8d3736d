/**
 * The shape sweep of issue 29: every compiled query x (its default shape, each group_by dimension
 * alone, each filter alone with a value present in the data, job_status_trend's hour buckets) x
 * windows of 1, 7, 30 and 90 days ending now. Each shape is sent once right after a maintenance
 * cycle (cold: a run, its job and a status row written a second earlier, then every view's cycle)
 * and once again (warm), through the real API process. Per shape: status, ms cold and warm, the
 * level that answered (or the base tables: no level holds the dimensions) and how much of the
 * window the plan reads from the base tables. Timings are reported, never judged here.
 *
 * `npm run bench:shapes` (bench/shapes.ts) is its command line; test/integration/bench-shapes.test.ts
 * runs it in smoke mode.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { createExecutor } from '../src/db/executor.ts';
import { migrateUp } from '../src/db/migrate.ts';
import { TABLES } from '../src/db/tables.ts';
import { registeredViews, SUPPORTED_QUERIES } from '../src/declarations/index.ts';
import type { CompiledQuery } from '../src/declarations/types.ts';
import { prepareQuery } from '../src/read/execute.ts';
import { readPlanInputs } from '../src/read/view-state.ts';
import { refreshView } from '../src/refresh/refresh-view.ts';
import { type Dim } from '../src/rollup/spec.ts';
import { planParts, readsBeyondEdges } from '../src/read/plan.ts';
import type { TimeWindow } from '../src/rollup/window.ts';
import { seed, SHAPE } from '../src/seed/index.ts';
import { createCredentials, request, startApi } from './api.ts';
import { startServer } from './database.ts';
import { ignoreIdleError } from './dataset.ts';
import type { Resources } from './processes.ts';
import { sizeLabel } from './report.ts';
import { percentile, round } from './stats.ts';

const DAY_MS = 86_400_000;
export const SWEEP_DAYS = Object.freeze([1, 7, 30, 90]);
/** Generous: the sweep measures reads; the cycles before them only have to finish. */
const CYCLE_LIMITS = { statementTimeoutMs: 3_600_000, lockTimeoutMs: 60_000 } as const;

export interface ShapeOptions {
  readonly jobs: number;
  /** An existing database (migrated here; seeded only when it has no jobs; never dropped). Unset: a throwaway embedded PostgreSQL. */
  readonly databaseUrl: string | undefined;
  readonly seed: number;
  readonly outDir: string;
  readonly smoke: boolean;
  /** Keep each answer's rows in the returned results (the smoke test compares some with the oracle); never written. */
  readonly keepAnswers?: boolean;
  readonly log: (line: string) => void;
}

/** One request shape before its window: the query, a label and the body's other fields. */
export interface Shape {
  readonly query: string;
  readonly topic: string;
  /** 'default', 'group_by=<dim>', '<dim>=<value>' (a filter) or 'bucket=hour'. */
  readonly shape: string;
  readonly body: Readonly<Record<string, unknown>>;
}

export interface Sent {
  readonly status: number;
  readonly ms: number;
  /** The error envelope's first type, when not 200. */
  readonly error?: string;
}

export interface ShapeResult extends Shape {
  readonly days: number;
  readonly window: TimeWindow;
  readonly cold: Sent;
  readonly warm: Sent;
  /** The level that answered (its id and dims), or null: no level holds the dimensions, the base tables over the whole window. */
  readonly level: { readonly id: number; readonly dims: readonly Dim[] } | null;
  /** Milliseconds of the window the plan reads from the base tables (edges, or all of it); the real-time tail aside. */
  readonly rawSpanMs: number;
  /** The plan reads the base tables beyond the window's edges (an hour or more): what admission control counts. */
  readonly beyondEdges: boolean;
  readonly rows: number | null;
  /** The API's applied params and rows of the warm answer, with keepAnswers. */
  readonly answer?: { readonly params: Record<string, unknown>; readonly data: Record<string, unknown>[] };
}

export interface ShapeSummary {
  readonly shapes: number;
  readonly cold: { readonly p50: number; readonly p90: number; readonly max: number; readonly over100ms: number; readonly over1s: number };
  readonly warm: { readonly p50: number; readonly max: number; readonly over100ms: number; readonly over1s: number };
  /** Requests (cold and warm) answered other than 200. */
  readonly non200: number;
  /** Shapes no level covers (read from the base tables over the whole window). */
  readonly baseTables: number;
}

export interface ShapeRun {
  readonly date: string;
  readonly label: string;
  readonly command: string;
  readonly server: { readonly kind: 'embedded' | 'external'; readonly version: string; readonly jit: string };
  readonly dataset: { readonly jobs: number; readonly runs: number; readonly seededMs: number | null; readonly end: number };
  readonly cycleMs: { readonly p50: number; readonly max: number };
  readonly summary: ShapeSummary;
  readonly results: readonly ShapeResult[];
  readonly files?: { readonly json: string; readonly markdown: string };
}

/** The shapes of every compiled query; `values` holds a value present in the data for each filterable dimension. */
export function sweepShapes(values: Readonly<Partial<Record<Dim, string>>>, queries: readonly CompiledQuery[] = SUPPORTED_QUERIES): Shape[] {
  const out: Shape[] = [];
  for (const q of queries) {
    const add = (shape: string, body: Record<string, unknown>) => out.push({ query: q.name, topic: q.topic, shape, body });
    add('default', {});
    const shape = schemaShape(q);
    if ('group_by' in shape) for (const d of groupByDims(q)) add(`group_by=${d}`, { group_by: [d] });
    if ('bucket' in shape) add('bucket=hour', { bucket: 'hour' });
    for (const d of q.filters) {
      const v = values[d];
      if (v === undefined) throw new Error(`no value present in the data for the filter ${d} of ${q.name}`);
      add(`${d}=${v}`, { [d]: v });
    }
  }
  return out;
}

/** The fields of a query's strict body schema (querySchema in src/declarations/params.ts). */
function schemaShape(q: CompiledQuery): Record<string, unknown> {
  return (q.params as unknown as { shape: Record<string, unknown> }).shape;
}

/** The dimensions a query's group_by accepts, read from its schema (the enum of the array's items). */
function groupByDims(q: CompiledQuery): string[] {
  const schema = schemaShape(q).group_by;
  // z.array(z.enum(...)).refine(...).default([...]): unwrap to the enum's options.
  let node: unknown = schema;
  for (let i = 0; i < 6 && node; i++) {
    const def = (node as { def?: Record<string, unknown> }).def;
    if (!def) break;
    if (def.type === 'enum') return Object.values(def.entries as Record<string, string>);
    node = def.innerType ?? def.element ?? def.in ?? def.schema;
  }
  throw new Error(`cannot read the group_by dimensions of ${q.name}`);
}

/** A value of each filterable dimension from the last day's facts, so every window holds it. */
async function presentValues(pool: pg.Pool, now: number): Promise<Partial<Record<Dim, string>>> {
  const { rows: runs } = await pool.query<Record<string, string>>(
    `SELECT r.tenant_id, r.source_app, r.environment, j.catalog_id, j.country
       FROM ${TABLES.runs} r JOIN ${TABLES.runsJobs} j ON j.event_id = r.event_id
      WHERE r.timestamp_start > $1::bigint - ${DAY_MS} AND r.timestamp_start <= $1::bigint
        AND r.tenant_id IS NOT NULL AND r.source_app IS NOT NULL AND r.environment IS NOT NULL AND j.catalog_id IS NOT NULL AND j.country IS NOT NULL
      ORDER BY r.timestamp_start DESC LIMIT 1`,
    [now],
  );
  if (!runs[0]) throw new Error('no run with every dimension in the last day: seed more jobs');
  return runs[0] as Partial<Record<Dim, string>>;
}

/**
 * What the gateway writes between two cycles, at its smallest: one run, one job and one status row,
 * a second ago, but never inside a window already swept (`after`: the last window's end), so each
 * answer stays what the oracle computes over its window afterwards.
 */
async function writeOne(pool: pg.Pool, i: number, after: number): Promise<void> {
  const ts = Math.max(Date.now() - 1_000, after + 1);
  const id = `shapes-${ts}-${i}`;
  await pool.query(
    `WITH r AS (INSERT INTO ${TABLES.runs} (event_id, job_ref, tenant_id, source_app, source_app_version, environment, timestamp_start, timestamp_end)
                VALUES ($1, 'ref', 'tenant-01', 'pipeline-shapes', '1', 'prod', $2::bigint, $2::bigint + 500))
     INSERT INTO ${TABLES.runsJobs} (event_id, country, catalog_id, status, timestamp_start, timestamp_end)
     VALUES ($1, 'ZA', 'catalog-1', 'succeeded', $2::bigint, $2::bigint + 500)`,
    [id, ts],
  );
  await pool.query(
    `INSERT INTO ${TABLES.statusChange} (job_id, tenant_id, source_app, environment, country, status_type, created_at, last_updated_at)
     VALUES (gen_random_uuid(), 'tenant-01', 'pipeline-shapes', 'prod', 'ZA', 'SUCCEEDED', to_timestamp($1::float8 / 1000), to_timestamp($1::float8 / 1000))`,
    [ts],
  );
}

/** One maintenance cycle of every view, one after another; returns its wall time. */
async function cycle(pool: pg.Pool): Promise<number> {
  const t0 = performance.now();
  for (const v of registeredViews()) {
    const r = await refreshView(pool, v, CYCLE_LIMITS);
    if (r.outcome === 'failed') throw new Error(`the cycle of ${v.name} failed: ${r.error}`);
  }
  return performance.now() - t0;
}

async function send(url: string, authorization: string, body: unknown): Promise<{ sent: Sent; json: unknown }> {
  const a = await request(url, authorization, body);
  const env = a.json as { errors?: { type?: string }[] };
  return { sent: { status: a.status, ms: round(a.ms, 1), ...(a.status === 200 ? {} : { error: env.errors?.[0]?.type ?? 'unknown' }) }, json: a.json };
}

export function summarizeShapes(results: readonly ShapeResult[]): ShapeSummary {
  const sorted = (xs: number[]) => Float64Array.from(xs).sort();
  const cold = sorted(results.map((r) => r.cold.ms));
  const warm = sorted(results.map((r) => r.warm.ms));
  const over = (xs: Float64Array, ms: number) => xs.filter((x) => x > ms).length;
  return {
    shapes: results.length,
    cold: { p50: round(percentile(cold, 50), 1), p90: round(percentile(cold, 90), 1), max: round(cold.at(-1) ?? NaN, 1), over100ms: over(cold, 100), over1s: over(cold, 1000) },
    warm: { p50: round(percentile(warm, 50), 1), max: round(warm.at(-1) ?? NaN, 1), over100ms: over(warm, 100), over1s: over(warm, 1000) },
    non200: results.reduce((n, r) => n + (r.cold.status !== 200 ? 1 : 0) + (r.warm.status !== 200 ? 1 : 0), 0),
    baseTables: results.filter((r) => r.level === null).length,
  };
}

const levelText = (r: ShapeResult) => (r.level ? `${r.level.id} (${r.level.dims.join(', ') || 'none'})` : '**base tables**');
/** A span of time in the unit that reads best: 0, 42 s, 13 min, 2.5 h, 89.9 d. */
function span(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 60_000) return `${round(ms / 1000, 1)} s`;
  if (ms < 3_600_000) return `${round(ms / 60_000, 1)} min`;
  if (ms < DAY_MS) return `${round(ms / 3_600_000, 1)} h`;
  return `${round(ms / DAY_MS, 1)} d`;
}
const status = (s: Sent) => (s.status === 200 ? '200' : `**${s.status}** ${s.error ?? ''}`);

export function renderShapes(run: ShapeRun): string {
  const s = run.summary;
  const lines = [
    `# Shape sweep, ${run.label} jobs, ${run.date}`,
    '',
    `\`${run.command}\` — ${run.server.version} (${run.server.kind}, jit ${run.server.jit}); ${run.dataset.jobs.toLocaleString('en')} jobs, ${run.dataset.runs.toLocaleString('en')} runs.`,
    `Each shape sent once right after a maintenance cycle of every view (cold; cycle p50 ${run.cycleMs.p50} ms, max ${run.cycleMs.max} ms), then again (warm), one at a time.`,
    '',
    '## Summary',
    '',
    '| shapes | cold p50 | cold p90 | cold max | warm p50 | warm max | cold > 100 ms | cold > 1 s | warm > 100 ms | warm > 1 s | non-200 | from the base tables |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    `| ${s.shapes} | ${s.cold.p50} ms | ${s.cold.p90} ms | ${s.cold.max} ms | ${s.warm.p50} ms | ${s.warm.max} ms | ${s.cold.over100ms} | ${s.cold.over1s} | ${s.warm.over100ms} | ${s.warm.over1s} | ${s.non200} | ${s.baseTables} |`,
    '',
    '## Per shape',
    '',
    'Level: the one the router (`planParts`) picks (id and dims), or the base tables (no level holds the dimensions: the whole window is read raw). Raw: how much of the window the plan reads from the base tables (edges, or all of it), the real-time tail aside.',
    '',
    '| query | shape | days | cold | cold ms | warm | warm ms | level | raw | rows |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...run.results.map(
      (r) => `| ${r.query} | ${r.shape} | ${r.days} | ${status(r.cold)} | ${r.cold.ms} | ${status(r.warm)} | ${r.warm.ms} | ${levelText(r)} | ${span(r.rawSpanMs)} | ${r.rows ?? ''} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

/** Prepares (or reuses) the database, starts the API, sweeps every shape, writes bench/results/<date>-shapes-<size>[-<server>].{json,md}. */
export async function runShapes(options: ShapeOptions, resources: Resources, command: string): Promise<ShapeRun> {
  const log = options.log;
  const label = sizeLabel(options.jobs);
  const server = options.databaseUrl
    ? { kind: 'external' as const, createDatabase: async () => ({ url: options.databaseUrl!, drop: async () => {} }) }
    : await startServer(undefined, false, resources, log);
  const db = await server.createDatabase(`shapes_${label}`);
  const pool = new pg.Pool({ connectionString: db.url, max: 4, application_name: 'eventstats-bench-shapes' });
  pool.on('error', ignoreIdleError);
  const closePool = resources.add('close the shapes pool', () => pool.end());
  try {
    await migrateUp(db.url);
    const { rows: present } = await pool.query<{ n: number; end: number | null }>(
      `SELECT count(*)::float8 AS n, (SELECT max(timestamp_start)::float8 FROM ${TABLES.runs}) AS end FROM ${TABLES.runsJobs}`,
    );
    let seededMs: number | null = null;
    let end: number;
    if (present[0]!.n > 0) {
      end = present[0]!.end!;
      log(`  ${present[0]!.n} jobs present: measured as they are`);
    } else {
      end = Date.now();
      const runs = Math.max(1, Math.round(options.jobs / SHAPE.jobsPerRun.mean));
      let shown = 0;
      const seeded = await seed(pool, { runs, seed: options.seed, end }, (p) => {
        if (p.elapsedMs - shown < 10_000) return;
        shown = p.elapsedMs;
        log(`  seeding: ${p.runs}/${p.totalRuns} runs, ${(p.elapsedMs / 1000).toFixed(0)} s`);
      });
      seededMs = round(seeded.ms);
      log(`  seeded ${seeded.runs} runs, ${seeded.jobs} jobs in ${(seeded.ms / 1000).toFixed(1)} s`);
    }
    await pool.query('VACUUM ANALYZE');
    log(`  first cycle: ${Math.round(await cycle(pool))} ms`);
    await pool.query('VACUUM ANALYZE');
    const { rows: counts } = await pool.query<{ jobs: number; runs: number; version: string; jit: string }>(
      `SELECT (SELECT count(*) FROM ${TABLES.runsJobs})::float8 AS jobs, (SELECT count(*) FROM ${TABLES.runs})::float8 AS runs,
              split_part(version(), ' on ', 1) AS version, current_setting('jit') AS jit`,
    );
    const values = await presentValues(pool, end);
    const shapes = sweepShapes(values);
    log(`  ${shapes.length} shapes x ${SWEEP_DAYS.length} windows; filter values ${JSON.stringify(values)}`);

    const credentials = await createCredentials(resources);
    const api = await startApi(resources, db.url, credentials, 'tsx');
    const executor = createExecutor(pool, 1);
    const results: ShapeResult[] = [];
    const cycles: number[] = [];
    try {
      // Each query's first request loads its modules and prepares its statements: not a shape's cost.
      for (const q of SUPPORTED_QUERIES) await request(`${api.baseUrl}/stats/${q.topic}/query/${q.name}`, credentials.authorization, { days: 1 });
      let i = 0;
      for (const days of SWEEP_DAYS) {
        for (const s of shapes) {
          const q = SUPPORTED_QUERIES.find((x) => x.name === s.query)!;
          await writeOne(pool, i++, results.at(-1)?.window.end ?? 0);
          cycles.push(await cycle(pool));
          const now = Date.now();
          const window = { start: now - days * DAY_MS, end: now };
          const body = { ...s.body, timestamp_start: window.start, timestamp_end: window.end };
          const url = `${api.baseUrl}/stats/${s.topic}/query/${s.query}`;
          const cold = await send(url, credentials.authorization, body);
          const warm = await send(url, credentials.authorization, body);
          const prepared = prepareQuery(q, body, { kind: 'all' }, now);
          const parts = q.plan({ params: prepared.params as never, window, access: { kind: 'all' } }).parts;
          const { coverage, sizes } = await readPlanInputs(q.rollup, executor);
          const plan = planParts(q.rollup, parts, coverage, sizes);
          const answer = warm.json as { params?: Record<string, unknown>; data?: Record<string, unknown>[] };
          const r: ShapeResult = {
            ...s,
            days,
            window,
            cold: cold.sent,
            warm: warm.sent,
            level: plan.level ? { id: plan.level.id, dims: plan.level.dims } : null,
            rawSpanMs: plan.raw.reduce((n, x) => n + (x.to - x.from), 0),
            beyondEdges: readsBeyondEdges(plan),
            rows: Array.isArray(answer.data) ? answer.data.length : null,
            ...(options.keepAnswers && answer.data ? { answer: { params: answer.params ?? {}, data: answer.data } } : {}),
          };
          results.push(r);
          log(`  ${s.query} ${s.shape} ${days}d: ${r.cold.status} ${r.cold.ms} ms cold, ${r.warm.status} ${r.warm.ms} ms warm, ${r.level ? `level ${r.level.id}` : 'base tables'}`);
        }
      }
    } catch (err) {
      const state = api.child.exited() ? 'exited' : 'still running';
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n(the API server ${state}; its last output:\n${api.child.output()})`, { cause: err });
    } finally {
      await api.child.stop();
    }
    const sortedCycles = Float64Array.from(cycles).sort();
    const suffix = options.databaseUrl ? `-${counts[0]!.version.replace(/^PostgreSQL /, 'pg').replace(/\..*$/, '')}` : '';
    const run: ShapeRun = {
      date: new Date().toISOString().slice(0, 10),
      label,
      command,
      server: { kind: server.kind, version: counts[0]!.version, jit: counts[0]!.jit },
      dataset: { jobs: counts[0]!.jobs, runs: counts[0]!.runs, seededMs, end },
      cycleMs: { p50: round(percentile(sortedCycles, 50), 1), max: round(sortedCycles.at(-1) ?? NaN, 1) },
      summary: summarizeShapes(results),
      results,
    };
    await mkdir(options.outDir, { recursive: true });
    const base = path.join(options.outDir, `${run.date}-shapes-${label}${options.smoke ? '-smoke' : ''}${suffix}`);
    const files = { json: `${base}.json`, markdown: `${base}.md` };
    await writeFile(files.json, `${JSON.stringify({ ...run, results: results.map(({ answer: _a, ...r }) => r) }, null, 2)}\n`);
    await writeFile(files.markdown, renderShapes(run));
    return { ...run, files };
  } finally {
    await closePool();
    await db.drop();
  }
}
