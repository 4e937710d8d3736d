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
import { setTimeout as delay } from 'node:timers/promises';
import { summarize } from '../../bench/stats.ts';
import { loadConfig } from '../../src/core/config.ts';
import type { ServiceProcess } from '../helpers/service-process.ts';
import type { ChaosCluster } from './cluster.ts';
import { send, startLoad, type Sample } from './load.ts';
import { rssMb, scrapeGauge, serverPid } from './soak.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const RUNS = '/stats/public.cps.za.runs';
const MB = 1024 * 1024;

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
  readonly p50: number;
  readonly p99: number;
}

export interface AdmissionReport {
  readonly seconds: number;
  readonly polite: boolean;
  /** N: the first user's load replaced by N processes spinning on a core each, outside the API (the floor on this machine). */
  readonly burners?: number;
  /** The second user's covered reads alone, and beside the first user's heavy load. */
  readonly coveredAlone: Latency;
  readonly coveredBeside: Latency;
  /** The first user's base-table reads: answers by status, and whether every 429 said when to retry. */
  readonly heavy: { readonly byStatus: Record<string, number>; readonly every429HasRetryAfter: boolean };
}

function latency(xs: readonly Sample[]): Latency {
  const ok = xs.filter((s) => s.status === 200).map((s) => s.ms);
  const st = summarize(ok.length ? ok : [NaN]);
  return { n: xs.length, errors: xs.length - ok.length, p50: r1(st.p50), p99: r1(st.p99) };
}

/** Like startLoad, but each connection waits out a 429's Retry-After before its next request, as a well-behaved client does. */
function startPoliteLoad(base: string, bearer: string, connections: number, next: (i: number) => { path: string; body?: unknown }) {
  const samples: Sample[] = [];
  let running = true;
  let i = 0;
  const loops = Array.from({ length: connections }, async () => {
    while (running) {
      const s = await send(base, bearer, next(i++));
      samples.push({ ...s, body: undefined });
      if (s.status === 429) {
        const until = Date.now() + Number(s.retryAfter ?? 1) * 1000;
        while (running && Date.now() < until) await delay(100);
      }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return samples;
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
    async stop(): Promise<Sample[]> {
      for (const c of children) c.kill('SIGKILL');
      await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
      return [];
    },
  };
}

/**
 * `polite`: the first user's connections wait out each 429's Retry-After (a client following the
 * contract); otherwise they send their next request at once (closed loop, no back-off). `burners`:
 * instead of the first user, that many CPU-bound processes outside the API (startBurners).
 */
export async function admissionScenario(cluster: ChaosCluster, base: string, seconds = 20, heavyConnections = 20, coveredConnections = 4, polite = false, burners = 0): Promise<AdmissionReport> {
  const carol = cluster.bearer('carol');
  const alice = cluster.bearer('alice');
  const covered = (i: number) => ({
    path: `${RUNS}/query/${i % 2 ? 'failed_jobs' : 'job_status_trend'}`,
    body: i % 2 ? { days: 7, group_by: ['tenant_id'] } : { days: 3, bucket: 'hour' },
  });
  const now = Date.now();
  const heavy = (i: number) =>
    i % 2
      ? { path: RUNS, body: { timestamp_start: now - 31 * DAY + 1, timestamp_end: now, limit: 1000 } }
      : { path: `${RUNS}/query/aggregation_by_catalog`, body: { timestamp_start: now - 29 * DAY + 5 * HOUR + (i % 60) * 1000, timestamp_end: now - 20 * DAY - 5 * HOUR, limit: 1000 } };
  // Warm the caches, so both phases measure the same steady state.
  for (let i = 0; i < 20; i++) await send(base, carol, covered(i));
  const alone = startLoad(base, carol, coveredConnections, covered);
  await delay(seconds * 1000);
  const aloneSamples = await alone.stop();
  const heavyLoad = burners > 0 ? startBurners(burners) : polite ? startPoliteLoad(base, alice, heavyConnections, heavy) : startLoad(base, alice, heavyConnections, heavy);
  const beside = startLoad(base, carol, coveredConnections, covered);
  await delay(seconds * 1000);
  const besideSamples = await beside.stop();
  const heavySamples = await heavyLoad.stop();
  return {
    seconds,
    polite,
    ...(burners > 0 ? { burners } : {}),
    coveredAlone: latency(aloneSamples),
    coveredBeside: latency(besideSamples),
    heavy: { byStatus: countBy(heavySamples), every429HasRetryAfter: heavySamples.filter((s) => s.status === 429).every((s) => s.retryAfter !== null && s.retryAfter !== undefined) },
  };
}
