/**
 * Three workers and the CLI refreshing at once, with triggers arriving every second, while the
 * gateway writes. Afterwards: no view was ever refreshed by two sessions at once (the refresh log's
 * attempts of a view never overlap), no job is stuck or failed, and once writing stops one more
 * trigger per view brings every view to the oracle: no refresh was lost to coalescing.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { PGBOSS_SCHEMA, refreshQueue } from '../../src/db/tables.ts';
import { TABLES } from '../../src/db/tables.ts';
import { registeredViews } from '../../src/declarations/index.ts';
import { expectAllExact } from '../helpers/exact.ts';
import { observer } from '../helpers/refresh-worker.ts';
import { startService, type ServiceProcess } from '../helpers/service-process.ts';
import type { ChaosCluster } from './cluster.ts';
import { startWriter, type WriterReport } from './writer.ts';

export interface LoggedAttempt {
  readonly id: string;
  readonly view_name: string;
  readonly outcome: string;
  readonly started_at: Date;
  readonly finished_at: Date | null;
}

/**
 * The refresh log's attempts after log id `since`: counted by view and outcome, and every pair of
 * attempts of one view that overlapped in time (what single-flight must never allow).
 */
export async function refreshAttempts(
  cluster: ChaosCluster,
  since: string,
): Promise<{ log: LoggedAttempt[]; attempts: Record<string, Record<string, number>>; overlaps: string[] }> {
  const { rows: log } = await cluster.pool.query<LoggedAttempt>(
    `SELECT id::text, view_name, outcome, started_at, finished_at FROM ${TABLES.refreshLog} WHERE id > $1 ORDER BY view_name, started_at`,
    [since],
  );
  const attempts: Record<string, Record<string, number>> = {};
  const overlaps: string[] = [];
  const last = new Map<string, LoggedAttempt>();
  for (const r of log) {
    (attempts[r.view_name] ??= {})[r.outcome] = (attempts[r.view_name]![r.outcome] ?? 0) + 1;
    const prev = last.get(r.view_name);
    if (prev && (prev.finished_at === null || prev.finished_at > r.started_at)) overlaps.push(`${r.view_name}: attempt ${prev.id} still ran when ${r.id} started`);
    last.set(r.view_name, r);
  }
  return { log, attempts, overlaps };
}

export interface CompetingOptions {
  readonly cluster: ChaosCluster;
  readonly workers: number;
  readonly durationMs: number;
  readonly triggerEveryMs: number;
}

export interface CompetingReport {
  readonly durationMs: number;
  readonly workers: number;
  readonly writes: WriterReport;
  readonly triggersSent: number;
  readonly triggersCoalesced: number;
  readonly cliRuns: number;
  readonly cliFailures: number;
  /** Attempts per view and outcome, from the refresh log. */
  readonly attempts: Record<string, Record<string, number>>;
  /** Pairs of attempts of one view whose [started_at, finished_at] overlap. */
  readonly overlaps: string[];
  /** Refresh jobs by state at the end (none may be active, created or retry once idle). */
  readonly jobs: Record<string, number>;
  /** undefined when every view equals the oracle as of its last refresh; else the first mismatch. */
  readonly inexact?: string;
  readonly stray: string[];
}

const UNFINISHED = ['created', 'retry', 'active'];

async function jobStates(cluster: ChaosCluster): Promise<Record<string, number>> {
  const { rows } = await cluster.pool.query<{ state: string; n: number }>(
    `SELECT state::text, count(*)::int AS n FROM ${PGBOSS_SCHEMA}.job WHERE name LIKE 'refresh.%' GROUP BY state`,
  );
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}

async function idle(cluster: ChaosCluster, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const states = await jobStates(cluster);
    if (!UNFINISHED.some((s) => states[s])) return;
    await delay(250);
  }
}

export async function competingScenario(o: CompetingOptions): Promise<CompetingReport> {
  const views = registeredViews().map((v) => v.name);
  const since = (await o.cluster.pool.query<{ id: string }>(`SELECT coalesce(max(id), 0)::text AS id FROM ${TABLES.refreshLog}`)).rows[0]!.id;
  const workers: ServiceProcess[] = [];
  for (let i = 0; i < o.workers; i++) workers.push(startService('jobs/worker.ts', { ...o.cluster.env }));
  await Promise.all(workers.map((w) => w.waitForMessage('refresh worker started')));
  const boss = await observer(o.cluster.url);
  const writer = startWriter(o.cluster.pool, 100);
  const end = Date.now() + o.durationMs;
  let triggersSent = 0;
  let triggersCoalesced = 0;
  let cliRuns = 0;
  let cliFailures = 0;
  const stray: string[] = [];
  const triggers = (async () => {
    for (let i = 0; Date.now() < end; i++) {
      const view = views[i % views.length]!;
      const id = await boss.send(refreshQueue(view), { force: i % 3 === 0 }, { singletonKey: view });
      triggersSent++;
      if (id === null) triggersCoalesced++;
      await delay(o.triggerEveryMs);
    }
  })();
  const cli = (async () => {
    for (let i = 0; Date.now() < end; i++) {
      const run = startService('src/cli/refresh.ts', { ...o.cluster.env, LOG_LEVEL: 'warn' }, i % 2 ? ['--force'] : []);
      const code = await run.exitCode(300_000);
      cliRuns++;
      if (code !== 0) {
        cliFailures++;
        stray.push(run.stderr());
      }
    }
  })();
  await Promise.all([triggers, cli]);
  const writes = await writer.stop();

  // Writing has stopped: one more trigger per view must bring it to every row.
  await idle(o.cluster, 120_000);
  for (const v of views) await boss.send(refreshQueue(v), {}, { singletonKey: v });
  await idle(o.cluster, 120_000);
  await boss.stop({ graceful: false });
  let inexact: string | undefined;
  try {
    const now = Date.now();
    await expectAllExact(o.cluster.pool, [{ timestamp_start: now - 40 * 86_400_000, timestamp_end: now }], now, { realtime: false });
  } catch (err) {
    inexact = err instanceof Error ? err.message.slice(0, 2_000) : String(err);
  }
  for (const w of workers) {
    w.child.kill('SIGTERM');
    if ((await w.exitCode()) !== 0) stray.push(w.stderr());
    stray.push(...w.stderr().split('\n').filter((l) => l.trim()));
  }

  const { attempts, overlaps } = await refreshAttempts(o.cluster, since);
  return {
    durationMs: o.durationMs,
    workers: o.workers,
    writes,
    triggersSent,
    triggersCoalesced,
    cliRuns,
    cliFailures,
    attempts,
    overlaps,
    jobs: await jobStates(o.cluster),
    inexact,
    stray,
  };
}
