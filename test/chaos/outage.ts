/**
 * The database goes away under load, and comes back; the API and the worker are left alone.
 *   stop:      PostgreSQL is stopped (fast shutdown) for `downMs`, then started again;
 *   terminate: every EventStats session is ended by pg_terminate_backend.
 * The report keeps what an operator would ask: what every request got in each phase, how long the
 * slowest took while the database was away, how soon answers came back and whether they are the
 * ones from before, what the API logged, and whether the worker went on refreshing.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { PgBoss } from 'pg-boss';
import { summarize } from '../../bench/stats.ts';
import { refreshQueue } from '../../src/db/tables.ts';
import { TABLES } from '../../src/db/tables.ts';
import { registeredViews } from '../../src/declarations/index.ts';
import { observer } from '../helpers/refresh-worker.ts';
import type { ServiceProcess } from '../helpers/service-process.ts';
import type { ChaosCluster } from './cluster.ts';
import { send, startLoad, type LoadRequest, type Sample } from './load.ts';

export interface OutageOptions {
  readonly cluster: ChaosCluster;
  readonly api: ServiceProcess;
  readonly base: string;
  readonly worker: ServiceProcess;
  readonly mode: 'stop' | 'terminate';
  readonly downMs: number;
  readonly connections: number;
  /** VIEW_STATE_TTL_MS the API runs with. */
  readonly viewStateTtlMs: number;
  /** DB_CONNECT_TIMEOUT_MS the API runs with. */
  readonly connectTimeoutMs: number;
  /** How the worker proves it resumed: its own cron (up to a minute), or a job sent to each queue. */
  readonly resume: 'schedule' | 'trigger';
}

export interface PhaseCounts {
  readonly requests: number;
  readonly byStatus: Record<string, number>;
  readonly maxMs: number;
  readonly p99Ms: number;
}

export interface OutageReport {
  readonly mode: 'stop' | 'terminate';
  readonly downMs: number;
  readonly before: PhaseCounts;
  readonly down: PhaseCounts;
  readonly after: PhaseCounts;
  /** Requests answered neither 200 nor 503 "database" with Retry-After, at any time. */
  readonly wrongAnswers: Sample[];
  /**
   * From PostgreSQL being back (its start has returned: it accepts connections and the database is
   * there), or from the terminate, to the first 200 sent after it; 0 when one came sooner.
   */
  readonly recoveryMs: number | null;
  readonly answersAsBefore: boolean;
  readonly healthDuring: number | null;
  readonly healthAfter: number;
  /** Error-level lines the API logged while the database was away, and that span in seconds. */
  readonly apiErrorLines: number;
  readonly downSeconds: number;
  /** Requests answered 200 while the database was away: from the API's caches (see `down`). */
  readonly cachedDuringDown: Record<string, number>;
  /** What the API and the worker wrote to stderr (an uncaught error, a stack trace) or logged as unhandled. */
  readonly stray: string[];
  readonly apiAlive: boolean;
  readonly workerAlive: boolean;
  /** Milliseconds from recovery to every view having a successful cycle logged after it. */
  readonly workerResumedMs: number | null;
}

export function requestMix(end: number): LoadRequest[] {
  const w = { timestamp_start: end - 40 * 86_400_000, timestamp_end: end };
  return [
    { path: '/stats/public.cps.za.runs/query/failed_jobs', body: { ...w, group_by: ['tenant_id'] } },
    { path: '/stats/public.cps.za.runs/query/aggregation_by_catalog', body: w },
    { path: '/stats/public.cps.za.runs/query/job_status_trend', body: { ...w, bucket: 'day' } },
    { path: '/stats/public.cps.za.runs/query/failed_jobs_by_country', body: { ...w, group_by: ['environment'] } },
    { path: '/stats/public.cps.za.status_change/query/run_status_summary', body: w },
    // The raw endpoint reads at most 31 days (src/raw/raw-stats.ts).
    { path: '/stats/public.cps.za.runs', body: { timestamp_start: end - 31 * 86_400_000, timestamp_end: end } },
  ];
}

function phase(samples: readonly Sample[]): PhaseCounts {
  const byStatus: Record<string, number> = {};
  for (const s of samples) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
  const ms = samples.map((s) => s.ms);
  return { requests: samples.length, byStatus, maxMs: Math.round(Math.max(0, ...ms)), p99Ms: Math.round(summarize(ms).p99 || 0) };
}

/** An answer's data, without what may rightly differ between two reads of the same rows. */
function dataOf(s: Sample): unknown {
  return (s.body as { data?: unknown } | undefined)?.data;
}

async function answers(base: string, bearer: string, mix: readonly LoadRequest[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const r of mix) {
    const s = await send(base, bearer, r);
    if (s.status !== 200) throw new Error(`${r.path} answered ${s.status} (${s.type}) outside the outage`);
    out.push(dataOf(s));
  }
  return out;
}

async function health(base: string): Promise<number> {
  const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
  return res?.status ?? -1;
}

async function terminateEventStatsSessions(cluster: ChaosCluster): Promise<number> {
  const { rowCount } = await cluster.pool.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE 'eventstats%'`,
  );
  return rowCount ?? 0;
}

/** Waits until every view has a successful cycle logged after `since`; returns when, or null past the limit. */
async function workerResumed(o: OutageOptions, since: number, limitMs: number): Promise<number | null> {
  const views = registeredViews().map((v) => v.name);
  let boss: PgBoss | undefined;
  if (o.resume === 'trigger') {
    boss = await observer(o.cluster.url);
    for (const v of views) await boss.send(refreshQueue(v), { force: true }, { singletonKey: v });
  }
  try {
    const deadline = Date.now() + limitMs;
    while (Date.now() < deadline) {
      const { rows } = await o.cluster.pool.query<{ n: number }>(
        `SELECT count(DISTINCT view_name)::int AS n FROM ${TABLES.refreshLog}
          WHERE view_name = ANY($1::text[]) AND outcome IN ('refreshed', 'skipped') AND finished_at > to_timestamp($2 / 1000.0)`,
        [views, since],
      );
      if (rows[0]?.n === views.length) return Date.now() - since;
      await delay(250);
    }
    return null;
  } finally {
    await boss?.stop({ graceful: false }).catch(() => {});
  }
}

export async function outageScenario(o: OutageOptions, workerLimitMs = 150_000): Promise<OutageReport> {
  const bearer = o.cluster.bearer('alice');
  const mix = requestMix(Date.now());
  const expected = await answers(o.base, bearer, mix);
  const load = startLoad(o.base, bearer, o.connections, (i) => mix[i % mix.length]!);
  await delay(1_500);

  const tDown = Date.now();
  let tStopped = tDown;
  let tUp: number;
  let tStart: number | undefined;
  let healthDuring: number | null = null;
  if (o.mode === 'stop') {
    await o.cluster.stop();
    tStopped = Date.now();
    healthDuring = await health(o.base);
    await delay(Math.max(0, o.downMs - (Date.now() - tStopped)));
    tStart = Date.now();
    await o.cluster.start();
    tUp = Date.now();
  } else {
    await terminateEventStatsSessions(o.cluster);
    tUp = Date.now();
    tStart = tUp;
  }
  const tRestart = tStart ?? tUp;
  // Load until the first 200 sent after recovery, then 3 s more.
  const recoverLimit = Date.now() + 60_000;
  while (!load.samples.some((s) => s.t >= tUp && s.status === 200) && Date.now() < recoverLimit) await delay(20);
  await delay(3_000);
  const samples = await load.stop();

  const first200 = samples.filter((s) => s.t >= tRestart && s.status === 200).sort((a, b) => a.t - b.t)[0];
  const isAnswer = (s: Sample) => s.status === 200 || (s.status === 503 && s.type === 'database' && s.retryAfter !== null);
  const after = await answers(o.base, bearer, mix);
  const healthAfter = await health(o.base);
  const errorLines = o.api.lines.filter((l) => l.level >= 50 && l.time >= tDown && l.time <= tUp + 1_000);
  const resumed = await workerResumed(o, tUp, workerLimitMs);
  return {
    mode: o.mode,
    downMs: tUp - tDown,
    before: phase(samples.filter((s) => s.t + s.ms < tDown)),
    // An API process trusts the view version it read last for VIEW_STATE_TTL_MS (1 s by default), so
    // for that long an answer wholly in its parts cache is still a 200: the same answer as a moment before.
    down: phase(samples.filter((s) => s.t >= tStopped + o.viewStateTtlMs && s.t + s.ms <= tRestart)),
    after: phase(samples.filter((s) => first200 && s.t >= first200.t)),
    wrongAnswers: samples.filter((s) => !isAnswer(s)).slice(0, 20),
    recoveryMs: first200 ? Math.max(0, first200.t - tUp) : null,
    answersAsBefore: JSON.stringify(after) === JSON.stringify(expected),
    healthDuring,
    healthAfter,
    apiErrorLines: errorLines.length,
    downSeconds: (tUp - tDown) / 1000,
    cachedDuringDown: samples
      .filter((s) => s.t >= tStopped && s.t + s.ms <= tRestart && s.status === 200)
      .reduce<Record<string, number>>((acc, s) => ({ ...acc, [s.path]: (acc[s.path] ?? 0) + 1 }), {}),
    stray: [o.api, o.worker].flatMap((p) => [...p.stderr().split('\n').filter((l) => l.trim()), ...p.messages.filter((m) => /unhandled|uncaught/i.test(m))]),
    apiAlive: o.api.child.exitCode === null && o.api.child.signalCode === null,
    workerAlive: o.worker.child.exitCode === null && o.worker.child.signalCode === null,
    workerResumedMs: resumed,
  };
}
