/**
 * Two ways one user tried to take the API down for everyone (issue 26), as chaos stages:
 *   filters    N requests (6,000) of failed_jobs over 30 days, each with 100 random 240-character
 *              source_app values, 8 at a time: the API's RSS must grow by no more than the parts
 *              cache's bound (PARTS_CACHE_MAX_BYTES) plus 50 MB, and be back under that a minute later.
 *   admission  a second user's covered reads alone, then beside the first user's 20 connections of
 *              base-table reads (31-day raw pages, aggregation_by_catalog windows before the recent
 *              tier): the second user keeps 0 errors and a p99 within 2x of theirs alone, while the
 *              first gets 429 with Retry-After past ADMISSION_USER_MAX.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { summarize } from '../../bench/stats.ts';
import { loadConfig } from '../../src/core/config.ts';
import type { ServiceProcess } from '../helpers/service-process.ts';
import type { ChaosCluster } from './cluster.ts';
import type { HeavyUserConfig, HeavyUserReport } from './heavy-user.ts';
import { send, startLoad, startRateLoad, type Sample } from './load.ts';
import { rssMb, scrapeGauge, scrapeGauges, serverPid } from './soak.ts';

const RUNS = '/stats/public.cps.za.runs';
const MB = 1024 * 1024;
const ROOT = path.join(import.meta.dirname, '../..');
// tsx's own command line, run by the Node that runs the chaos stages (as test/helpers/service-process.ts does).
const TSX = path.join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const HEAVY_USER = path.join(import.meta.dirname, 'heavy-user.ts');

const r1 = (x: number) => Math.round(x * 10) / 10;
const countBy = (xs: readonly Sample[]) => {
  const out: Record<string, number> = {};
  for (const s of xs) out[s.status] = (out[s.status] ?? 0) + 1;
  return out;
};

export interface FiltersReport {
  readonly requests: number;
  readonly seconds: number;
  readonly byStatus: Record<string, number>;
  /** RSS of the API process (MB): before, highest while sending, and a minute after. */
  readonly rssMb: { readonly before: number; readonly peak: number; readonly afterMinute: number };
  /** PARTS_CACHE_MAX_BYTES in MB, and the most the cache's gauge showed. */
  readonly cacheBoundMb: number;
  readonly cacheBytesMaxMb: number;
}

export async function filtersScenario(cluster: ChaosCluster, api: ServiceProcess, base: string, requests = 6_000, connections = 8): Promise<FiltersReport> {
  const pid = serverPid(api);
  const bound = loadConfig({ ...process.env, ...cluster.env }).partsCache.maxBytes;
  const bearer = cluster.bearer('alice');
  const before = rssMb(pid);
  let peak = before;
  let cacheMax = 0;
  let sent = 0;
  const samples: Sample[] = [];
  const t0 = Date.now();
  let running = true;
  const watcher = (async () => {
    while (running) {
      peak = Math.max(peak, rssMb(pid));
      cacheMax = Math.max(cacheMax, (await scrapeGauge(base, 'eventstats_parts_cache_bytes')) || 0);
      await delay(500);
    }
  })();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (sent < requests) {
        sent++;
        const source_app = Array.from({ length: 100 }, () => randomBytes(120).toString('hex'));
        samples.push(await send(base, bearer, { path: `${RUNS}/query/failed_jobs`, body: { days: 30, source_app } }));
      }
    }),
  );
  running = false;
  await watcher;
  const seconds = (Date.now() - t0) / 1000;
  await delay(60_000);
  return {
    requests: samples.length,
    seconds: r1(seconds),
    byStatus: countBy(samples),
    rssMb: { before: r1(before), peak: r1(peak), afterMinute: r1(rssMb(pid)) },
    cacheBoundMb: r1(bound / MB),
    cacheBytesMaxMb: r1(cacheMax / MB),
  };
}

interface Latency {
  readonly n: number;
  readonly errors: number;
  /** The answers other than 200, by status and error type (`429 rate_limited`), when there were any. */
  readonly errorsBy?: Record<string, number>;
  readonly p50: number;
  readonly p99: number;
  /** The API's event loop delay over the phase (ms, prom-client's nodejs_eventloop_lag_*_seconds, which start again at each scrape). */
  readonly apiLoopDelay: { readonly p99: number; readonly max: number };
}

export interface AdmissionReport {
  readonly seconds: number;
  readonly polite: boolean;
  /** The second user's reads a second, sent on a schedule (absent: 4 closed-loop connections). */
  readonly coveredRate?: number;
  /** N: the first user's load replaced by N processes spinning on a core each, outside the API (the floor on this machine). */
  readonly burners?: number;
  /** The second user's covered reads alone, and beside the first user's heavy load. */
  readonly coveredAlone: Latency;
  readonly coveredBeside: Latency;
  /** The first user's base-table reads: answers by status, and whether every 429 said when to retry. */
  readonly heavy: HeavyUserReport;
}

function latency(xs: readonly Sample[], apiLoopDelay: Latency['apiLoopDelay']): Latency {
  const ok = xs.filter((s) => s.status === 200).map((s) => s.ms);
  const st = summarize(ok.length ? ok : [NaN]);
  const errors = xs.filter((s) => s.status !== 200);
  const errorsBy: Record<string, number> = {};
  for (const s of errors) {
    const kind = `${s.status} ${s.type ?? ''}`.trim();
    errorsBy[kind] = (errorsBy[kind] ?? 0) + 1;
  }
  return { n: xs.length, errors: errors.length, ...(errors.length ? { errorsBy } : {}), p50: r1(st.p50), p99: r1(st.p99), apiLoopDelay };
}

/** The API's event loop delay since the last scrape (ms), both figures from one scrape: each scrape starts the count again. */
async function loopDelay(base: string) {
  const g = await scrapeGauges(base, ['nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_max_seconds']);
  return { p99: r1(g.nodejs_eventloop_lag_p99_seconds * 1000), max: r1(g.nodejs_eventloop_lag_max_seconds * 1000) };
}

/** The first user as a client process of its own (heavy-user.ts), for `seconds`; its report when it exits. */
function startHeavyUser(config: HeavyUserConfig): { stop(): Promise<HeavyUserReport> } {
  const child = spawn(process.execPath, [TSX, HEAVY_USER, JSON.stringify(config)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    async stop() {
      const [code, signal] = await exited;
      if (code !== 0) throw new Error(`the heavy user's process exited with ${code ?? signal}: ${err.trim()}`);
      return JSON.parse(out) as HeavyUserReport;
    },
  };
}

/**
 * N processes that spin on a CPU each until stopped: the CPU the first user's admitted work costs,
 * without the API, the pool or PostgreSQL, so a run can show what the second user's p99 is at best
 * beside that much work on this machine.
 */
function startBurners(n: number) {
  const children = Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return {
    async stop(): Promise<HeavyUserReport> {
      for (const c of children) c.kill('SIGKILL');
      await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
      return { byStatus: {}, every429HasRetryAfter: true };
    },
  };
}

/**
 * `polite`: the first user's connections wait out each 429's Retry-After (a client following the
 * contract); otherwise they send their next request at once (closed loop, no back-off). `burners`:
 * instead of the first user, that many CPU-bound processes outside the API (startBurners).
 * `coveredRate`: the second user sends that many reads a second on a schedule (open loop, many
 * dashboards polling) instead of 4 connections each sending its next read when the last answered
 * (closed loop, which on this machine takes every core the first user leaves, so that any work of
 * theirs shows in the second user's latency).
 */
export async function admissionScenario(cluster: ChaosCluster, base: string, seconds = 20, heavyConnections = 20, coveredConnections = 4, polite = false, burners = 0, coveredRate?: number): Promise<AdmissionReport> {
  const carol = cluster.bearer('carol');
  const alice = cluster.bearer('alice');
  const covered = (i: number) => ({
    path: `${RUNS}/query/${i % 2 ? 'failed_jobs' : 'job_status_trend'}`,
    body: i % 2 ? { days: 7, group_by: ['tenant_id'] } : { days: 3, bucket: 'hour' },
  });
  const now = Date.now();
  // Warm the caches, so both phases measure the same steady state.
  for (let i = 0; i < 20; i++) await send(base, carol, covered(i));
  const coveredLoad = () => (coveredRate === undefined ? startLoad(base, carol, coveredConnections, covered) : startRateLoad(base, carol, coveredRate, covered));
  await loopDelay(base);
  const alone = coveredLoad();
  await delay(seconds * 1000);
  const aloneSamples = await alone.stop();
  const aloneLoop = await loopDelay(base);
  // The first user is a process of its own (heavy-user.ts), as a client of the service is: parsing
  // their 1,000-row pages must not delay the timers of this process, which times the second user.
  const heavyLoad = burners > 0 ? startBurners(burners) : startHeavyUser({ base, bearer: alice, connections: heavyConnections, seconds, polite, now });
  const beside = coveredLoad();
  await delay(seconds * 1000);
  const besideSamples = await beside.stop();
  const besideLoop = await loopDelay(base);
  const heavy = await heavyLoad.stop();
  return {
    seconds,
    polite,
    ...(coveredRate === undefined ? {} : { coveredRate }),
    ...(burners > 0 ? { burners } : {}),
    coveredAlone: latency(aloneSamples, aloneLoop),
    coveredBeside: latency(besideSamples, besideLoop),
    heavy,
  };
}
