/**
 * Many API processes and many refresh workers against one primary, while the gateway writes:
 * `src/server.ts` with WEB_CONCURRENCY=2 (two processes under node:cluster) beside a plain
 * `src/server.ts` (a third process), and two `jobs/worker.ts` refreshing every view every minute.
 *
 * Answers are real time, so an answer equals the oracle over the rows committed when it was read,
 * a moment the client cannot see while the writer runs. Hence:
 * - checkpoints: the writer stops (its last write committed), and every compiled query over the runs
 *   topic, asked of both servers (each cluster process, by fresh connections taking turns), must equal
 *   the oracle over the base tables at that moment, whatever the refreshes are doing;
 * - between checkpoints, each answer's meta must be self-consistent (real time, staleness 0, a tail
 *   count, as many rows as it says), and a growing total must never shrink from one answer to a
 *   later one, across processes: an answer finished before another was sent saw no more rows;
 * - afterwards: the refresh log's attempts of a view never overlap, every schedule occurrence was
 *   handed on and followed by a refresh of its view, and once writing stops the views (as of their
 *   last refresh, status_change included) equal the oracle.
 *
 * A read replica: pass `replica` (its URL goes to the API processes as DATABASE_READ_URL, and
 * `caughtUp` is awaited at each checkpoint before the answers are compared with the primary).
 */
import http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { PGBOSS_SCHEMA, refreshQueue } from '../../src/db/tables.ts';
import { TABLES } from '../../src/db/tables.ts';
import { findQuery, registeredViews } from '../../src/declarations/index.ts';
import { DAY_MS } from '../../src/rollup/window.ts';
import { expectAllExact, expectSameRows, type Row } from '../helpers/exact.ts';
import { freePort } from '../helpers/free-port.ts';
import { CAROL_CONSTRAINTS, RUNS_TOPIC, type User } from '../helpers/http.ts';
import { oracle, type OracleRequest } from '../helpers/oracle.ts';
import { observer } from '../helpers/refresh-worker.ts';
import { startService, type ServiceProcess } from '../helpers/service-process.ts';
import type { ChaosCluster } from './cluster.ts';
import { refreshAttempts } from './competing.ts';
import { startWriter, type WriterReport } from './writer.ts';

export interface InstancesOptions {
  readonly cluster: ChaosCluster;
  /** How long the gateway writes and the load runs (a checkpoint every `checkpointEveryMs`). */
  readonly durationMs: number;
  readonly checkpointEveryMs: number;
  /** Closed-loop connections per server while the writer runs. */
  readonly connections: number;
  readonly workers: number;
  /** Hook for a streaming replica (test/helpers/replica.ts): reads go there, checkpoints wait for its replay. */
  readonly replica?: { readonly url: string; caughtUp(): Promise<void> };
}

export interface InstancesReport {
  readonly apiProcesses: number;
  readonly writes: WriterReport;
  readonly checkpoints: number;
  /** Answers compared with the oracle at checkpoints, and the first few that differed. */
  readonly compared: number;
  readonly mismatches: string[];
  /** Answers under load, by status; and the first few inconsistent ones. */
  readonly statuses: Record<string, number>;
  /** 200 answers under load by the database that answered them (`meta.database`). */
  readonly databases: Record<string, number>;
  readonly inconsistent: string[];
  /** API process PIDs that answered checkpoint requests (both cluster processes and the plain one). */
  readonly answeringPids: number;
  readonly attempts: Record<string, Record<string, number>>;
  readonly overlaps: string[];
  /** Schedule occurrences per view, and those not followed by an attempt of their view. */
  readonly occurrences: Record<string, number>;
  readonly lostOccurrences: string[];
  readonly jobs: Record<string, number>;
  readonly inexact?: string;
  readonly stray: string[];
}

interface Shape {
  readonly query: string;
  readonly user: User;
  readonly body: Row;
  readonly oracle: OracleRequest;
}

const LIMIT = 1_000;

/** The runs topic's compiled queries (real time), as dashboards ask them, and their oracle requests. */
function shapes(w: { timestamp_start: number; timestamp_end: number }): Shape[] {
  return [
    { query: 'failed_jobs', user: 'alice', body: { ...w, group_by: ['tenant_id', 'source_app'], limit: LIMIT }, oracle: { group_by: ['tenant_id', 'source_app'], limit: LIMIT } },
    { query: 'failed_jobs', user: 'alice', body: { ...w, group_by: ['environment', 'country'], limit: LIMIT }, oracle: { group_by: ['environment', 'country'], limit: LIMIT } },
    { query: 'failed_jobs', user: 'carol', body: { ...w, group_by: ['tenant_id'], limit: LIMIT }, oracle: { group_by: ['tenant_id'], limit: LIMIT, scope: CAROL_CONSTRAINTS } },
    { query: 'failed_jobs_by_country', user: 'alice', body: { ...w, limit: LIMIT }, oracle: { group_by: ['country'], limit: LIMIT } },
    { query: 'aggregation_by_catalog', user: 'alice', body: { ...w, limit: LIMIT }, oracle: { limit: LIMIT } },
    { query: 'job_status_trend', user: 'alice', body: { ...w, bucket: 'hour' }, oracle: { bucket: 'hour' } },
  ];
}

interface Answer {
  readonly status: number;
  readonly body: { data?: Row[]; meta?: Record<string, unknown>; errors?: unknown[] } | undefined;
}

/** POST on a connection of its own: the cluster hands each connection to the next process. */
function post(base: string, bearer: string, path: string, body: unknown): Promise<Answer> {
  const url = new URL(base + path);
  if (url.hostname !== '127.0.0.1') throw new Error(`refusing ${url.href}: only 127.0.0.1`);
  const payload = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = http.request(
      url,
      { method: 'POST', agent: false, headers: { authorization: bearer, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }, timeout: 30_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => {
          let parsed: Answer['body'];
          try {
            parsed = JSON.parse(text) as Answer['body'];
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: -1, body: undefined }));
    req.end(payload);
  });
}

const pathOf = (query: string) => `/stats/${RUNS_TOPIC}/query/${query}`;
const viewOf = (query: string) => findQuery(RUNS_TOPIC, query)!.rollup.view;

/** What an answer's meta must say of itself for a real-time query. */
function metaProblem(a: Answer, query: string): string | undefined {
  if (a.status !== 200) return `status ${a.status}: ${JSON.stringify(a.body?.errors ?? a.body)}`;
  const meta = a.body?.meta;
  const data = a.body?.data;
  if (!meta || !Array.isArray(data)) return 'no data or meta';
  if (meta.view !== viewOf(query)) return `meta.view ${String(meta.view)}`;
  // Real time as of the database that answered: the primary's now, or a replica's replay lag behind it.
  const staleness = meta.database === 'replica' ? meta.replica_lag_ms : 0;
  if (meta.realtime !== true || typeof meta.staleness_ms !== 'number' || meta.staleness_ms !== staleness) return `not real time: ${JSON.stringify(meta)}`;
  if (typeof meta.tail_rows !== 'number' || meta.tail_rows < 0) return `tail_rows ${String(meta.tail_rows)}`;
  if (meta.row_count !== data.length) return `row_count ${String(meta.row_count)} for ${data.length} rows`;
  if (typeof meta.refreshed_at !== 'string') return 'no refreshed_at';
  return undefined;
}

interface Timed {
  readonly sent: number;
  readonly done: number;
  readonly total: number;
}

/** Pairs where an answer finished before another was sent, yet counted more jobs (at most `max`). */
function shrinking(samples: readonly Timed[], max = 5): string[] {
  const byDone = [...samples].sort((a, b) => a.done - b.done);
  const prefixMax: Timed[] = [];
  for (const s of byDone) prefixMax.push(prefixMax.length && prefixMax.at(-1)!.total >= s.total ? prefixMax.at(-1)! : s);
  const out: string[] = [];
  for (const b of samples) {
    // The last answer done before b was sent.
    let lo = 0;
    let hi = byDone.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (byDone[mid]!.done < b.sent) lo = mid + 1;
      else hi = mid;
    }
    const before = lo > 0 ? prefixMax[lo - 1]! : undefined;
    if (before && before.total > b.total) out.push(`an answer done at ${before.done} counted ${before.total} jobs, one sent later (${b.sent}) counted ${b.total}`);
    if (out.length >= max) break;
  }
  return out;
}

async function jobStates(cluster: ChaosCluster): Promise<Record<string, number>> {
  const { rows } = await cluster.pool.query<{ state: string; n: number }>(
    `SELECT state::text, count(*)::int AS n FROM ${PGBOSS_SCHEMA}.job WHERE name LIKE 'refresh.%' OR name = '__pgboss__send-it' GROUP BY state`,
  );
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}

async function idle(cluster: ChaosCluster, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const states = await jobStates(cluster);
    if (!['created', 'retry', 'active'].some((s) => states[s])) return;
    await delay(250);
  }
}

function pidsAnswering(p: ServiceProcess): Set<number> {
  return new Set(p.lines.filter((l) => l.msg === 'request completed').map((l) => l.pid as number));
}

export async function instancesScenario(o: InstancesOptions): Promise<InstancesReport> {
  const { cluster } = o;
  const views = registeredViews().map((v) => v.name);
  const startedAt = new Date();
  const since = (await cluster.pool.query<{ id: string }>(`SELECT coalesce(max(id), 0)::text AS id FROM ${TABLES.refreshLog}`)).rows[0]!.id;
  const stray: string[] = [];
  const everyMinute = JSON.stringify(Object.fromEntries(views.map((v) => [v, '* * * * *'])));
  const workers = Array.from({ length: o.workers }, () => startService('jobs/worker.ts', { ...cluster.env, REFRESH_SCHEDULES: everyMinute }));
  const readEnv: Record<string, string> = o.replica ? { DATABASE_READ_URL: o.replica.url } : {};
  const [clusterPort, metricsPort, plainPort] = [await freePort(), await freePort(), await freePort()];
  const clustered = startService('src/server.ts', { ...cluster.env, ...readEnv, PORT: String(clusterPort), METRICS_PORT: String(metricsPort), WEB_CONCURRENCY: '2' });
  const plain = startService('src/server.ts', { ...cluster.env, ...readEnv, PORT: String(plainPort) });
  const apis = [clustered, plain];
  await Promise.all([...workers.map((w) => w.waitForMessage('refresh worker started')), ...apis.map((a) => a.waitForMessage('EventStats listening'))]);
  const bases = [`http://127.0.0.1:${clusterPort}`, `http://127.0.0.1:${plainPort}`];

  // A fixed window wide enough for every row written (now, or up to two days late).
  const t0 = Date.now();
  const wide = { timestamp_start: t0 - 40 * DAY_MS, timestamp_end: t0 + DAY_MS };
  const statuses: Record<string, number> = {};
  const databases: Record<string, number> = {};
  const inconsistent: string[] = [];
  const totals: Timed[] = [];
  const mismatches: string[] = [];
  let compared = 0;
  let checkpoints = 0;
  let writes: WriterReport = { runs: 0, failures: 0 };
  const end = Date.now() + o.durationMs;

  let loading = true;
  const loadShapes = shapes(wide);
  const loops = bases.flatMap((base) =>
    Array.from({ length: o.connections }, async (_, c) => {
      for (let i = c; loading; i++) {
        const shape = loadShapes[i % loadShapes.length]!;
        const sent = Date.now();
        const a = await post(base, cluster.bearer(shape.user), pathOf(shape.query), shape.body);
        const done = Date.now();
        statuses[a.status] = (statuses[a.status] ?? 0) + 1;
        if (a.status === 200) databases[String(a.body?.meta?.database)] = (databases[String(a.body?.meta?.database)] ?? 0) + 1;
        const problem = metaProblem(a, shape.query);
        if (problem) {
          if (inconsistent.length < 10) inconsistent.push(`${base} ${shape.query}: ${problem}`);
          continue;
        }
        // The first shape (alice, every group): its job count only grows, as the writer only inserts jobs.
        if (shape === loadShapes[0]) totals.push({ sent, done, total: a.body!.data!.reduce((n, r) => n + (r.job_count as number), 0) });
      }
    }),
  );

  while (Date.now() < end) {
    const writer = startWriter(cluster.pool, 100);
    await delay(Math.min(o.checkpointEveryMs, Math.max(0, end - Date.now())));
    const w = await writer.stop();
    writes = { runs: writes.runs + w.runs, failures: writes.failures + w.failures, lastError: w.lastError ?? writes.lastError };
    await o.replica?.caughtUp();
    // Checkpoint: nothing is being written. Every process must answer as the base tables are now.
    checkpoints++;
    const now = Date.now();
    const windows = [wide, { timestamp_start: now - 3 * 3_600_000, timestamp_end: now }];
    for (const window of windows) {
      for (const shape of shapes(window)) {
        const q = oracle(shape.query, { start: window.timestamp_start, end: window.timestamp_end }, shape.oracle);
        const expected = (await cluster.pool.query(q.text, q.values as unknown[])).rows as Row[];
        // The clustered server twice (fresh connections go to its processes in turn), the plain one once.
        for (const base of [bases[0]!, bases[0]!, bases[1]!]) {
          const a = await post(base, cluster.bearer(shape.user), pathOf(shape.query), shape.body);
          compared++;
          const context = { checkpoint: checkpoints, base, query: shape.query, user: shape.user, ...window, meta: a.body?.meta };
          try {
            if (a.status !== 200) throw new Error(`status ${a.status}: ${JSON.stringify(a.body)}`);
            expectSameRows(a.body!.data!, expected, context);
          } catch (err) {
            if (mismatches.length < 5) mismatches.push(`${JSON.stringify(context)}: ${err instanceof Error ? err.message.slice(0, 400) : String(err)}`);
          }
        }
      }
    }
  }
  loading = false;
  await Promise.all(loops);

  // Every schedule occurrence of the run handed on, and every refresh job finished.
  await idle(cluster, 120_000);
  const { rows: occ } = await cluster.pool.query<{ view: string; created_on: Date; state: string }>(
    `SELECT data->>'name' AS view, created_on, state::text FROM ${PGBOSS_SCHEMA}.job
      WHERE name = '__pgboss__send-it' AND created_on >= $1 ORDER BY created_on`,
    [startedAt],
  );
  const { log, attempts, overlaps } = await refreshAttempts(cluster, since);
  const occurrences: Record<string, number> = {};
  const lostOccurrences: string[] = [];
  for (const r of occ) {
    const view = r.view.replace(/^refresh\./, '');
    occurrences[view] = (occurrences[view] ?? 0) + 1;
    if (r.state !== 'completed') lostOccurrences.push(`${view} at ${r.created_on.toISOString()}: ${r.state}`);
    else if (!log.some((l) => l.view_name === view && l.started_at >= r.created_on)) lostOccurrences.push(`${view} at ${r.created_on.toISOString()}: no attempt after it`);
  }

  // Writing has stopped: one more trigger per view must bring it to every row.
  const boss = await observer(cluster.url);
  for (const v of views) await boss.send(refreshQueue(v), {}, { singletonKey: v });
  await idle(cluster, 120_000);
  await boss.stop({ graceful: false });
  let inexact: string | undefined;
  try {
    const now = Date.now();
    await expectAllExact(cluster.pool, [{ timestamp_start: now - 40 * DAY_MS, timestamp_end: now + DAY_MS }], now, { realtime: false });
  } catch (err) {
    inexact = err instanceof Error ? err.message.slice(0, 2_000) : String(err);
  }

  const answering = new Set([...pidsAnswering(clustered), ...pidsAnswering(plain)]);
  for (const p of [...apis, ...workers]) {
    p.child.kill('SIGTERM');
    if ((await p.exitCode()) !== 0) stray.push(`exit: ${p.stderr()}`);
    stray.push(...p.stderr().split('\n').filter((l) => l.trim()));
  }
  inconsistent.push(...shrinking(totals));
  return {
    apiProcesses: clustered.lines.filter((l) => l.msg === 'API process listening').length + 1,
    writes,
    checkpoints,
    compared,
    mismatches,
    statuses,
    databases,
    inconsistent,
    answeringPids: answering.size,
    attempts,
    overlaps,
    occurrences,
    lostOccurrences,
    jobs: await jobStates(cluster),
    inexact,
    stray,
  };
}
