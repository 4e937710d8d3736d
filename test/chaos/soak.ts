/**
 * The API and the worker for a long while of mixed reads (random windows, filters and groupings,
 * an unconstrained and a constrained user, windows that miss the parts cache) while the gateway
 * writes. Sampled every few seconds: the API process's RSS and the EventStats sessions open in
 * PostgreSQL; reported as a slope (least squares, after a warm-up) and their range.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { ServiceProcess } from '../helpers/service-process.ts';
import type { ChaosCluster } from './cluster.ts';
import { summarize } from '../../bench/stats.ts';
import { loadConfig } from '../../src/core/config.ts';
import { startLoad, type LoadRequest, type Sample } from './load.ts';
import { startWriter, type WriterReport } from './writer.ts';

export interface SoakReport {
  readonly minutes: number;
  readonly requests: number;
  readonly byStatus: Record<string, number>;
  readonly writes: WriterReport;
  readonly rssMb: { readonly first: number; readonly last: number; readonly min: number; readonly max: number; readonly slopeMbPerMin: number };
  readonly sessions: { readonly min: number; readonly max: number; readonly slopePerMin: number };
  /** The API's parts cache (its `eventstats_parts_cache_bytes` gauge): what RSS growth should follow. */
  readonly partsCacheBytes: { readonly first: number; readonly last: number; readonly max: number; readonly bound: number | null };
  /** Latency by request shape (path, and the group_by or bucket asked). */
  readonly byShape: Record<string, { readonly n: number; readonly p50: number; readonly p99: number; readonly max: number }>;
  /** Requests of a second or more, and how many of each shape (path, grouping, bucket, filter). */
  readonly slowCount: number;
  readonly slowByShape: Record<string, number>;
  /** Every request that did not answer 200, and the ten slowest, with what they asked. */
  readonly failures: readonly ReportedSample[];
  readonly slowest: readonly ReportedSample[];
  readonly samples: number;
}

export interface ReportedSample {
  readonly at: string;
  readonly ms: number;
  readonly status: number;
  readonly type?: string;
  readonly path: string;
  readonly body?: unknown;
}

const DAY = 86_400_000;
const RUNS = '/stats/public.cps.za.runs';

/** The node process that runs the server: tsx's child, or the process itself. */
export function serverPid(p: ServiceProcess): number {
  try {
    const children = execFileSync('pgrep', ['-P', String(p.child.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
    return children[0] ?? p.child.pid!;
  } catch {
    return p.child.pid!;
  }
}

export function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? NaN) / 1024;
}

/** Least-squares slope of y over x. */
export function slope(points: readonly [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const num = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

function pick<T>(xs: readonly T[], r: number): T {
  return xs[Math.floor(r * xs.length) % xs.length]!;
}

/** What a user may read: the environments she may filter on, and whether the status topic is hers. */
export interface Reader {
  readonly environments: readonly string[];
  readonly statusTopic: boolean;
}

/**
 * A valid request of any shape the reader may send (anything else is a correct 403, not what a
 * soak is after); about a third with a window no earlier request had.
 */
export function randomRequest(now: number, reader: Reader, rand: () => number = Math.random): LoadRequest {
  const end = rand() < 0.3 ? now - Math.floor(rand() * 20 * DAY) : now;
  const start = end - pick([3_600_000, DAY, 7 * DAY, 30 * DAY], rand()) - (rand() < 0.3 ? Math.floor(rand() * DAY) : 0);
  const w = { timestamp_start: start, timestamp_end: end };
  const filter = rand() < 0.3 ? { environment: [pick(reader.environments, rand())] } : {};
  // The dashboard shapes of the soak, as before issue 29. Since then every grouping and filter has a
  // level (catalog and country shapes included); `npm run bench:shapes` measures all of them.
  return pick<LoadRequest>(
    [
      { path: `${RUNS}/query/failed_jobs`, body: { ...w, ...filter, group_by: pick([['tenant_id'], ['source_app'], ['tenant_id', 'source_app'], ['environment']], rand()) } },
      { path: `${RUNS}/query/failed_jobs_by_country`, body: { ...w, ...filter, group_by: pick([['country'], ['tenant_id', 'country']], rand()) } },
      { path: `${RUNS}/query/aggregation_by_catalog`, body: { ...w, limit: 50 } },
      { path: `${RUNS}/query/job_status_trend`, body: { ...w, ...filter, bucket: pick(['hour', 'day'], rand()) } },
      { path: RUNS, body: { ...w } },
      ...(reader.statusTopic ? [{ path: '/stats/public.cps.za.status_change/query/run_status_summary', body: { ...w, group_by: pick([[], ['tenant_id'], ['environment']], rand()) } }] : []),
    ],
    rand(),
  );
}

/** The value of one unlabelled gauge in a Prometheus text exposition, or NaN. */
export async function scrapeGauge(base: string, name: string): Promise<number> {
  try {
    return (await scrapeGauges(base, [name]))[name]!;
  } catch {
    return NaN;
  }
}

/** Several unlabelled gauges from one scrape of /metrics (NaN for one it lacks); throws when the scrape fails. */
export async function scrapeGauges<N extends string>(base: string, names: readonly N[]): Promise<Record<N, number>> {
  const lines = (await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5_000) })).text()).split('\n');
  const out = {} as Record<N, number>;
  for (const name of names) {
    const line = lines.find((l) => l.startsWith(`${name} `));
    out[name] = line === undefined ? NaN : Number(line.slice(name.length + 1));
  }
  return out;
}

function shapeOf(s: Sample): string {
  const body = s.request?.body as { group_by?: unknown; bucket?: unknown; environment?: unknown } | undefined;
  const path = s.path.replace(/^.*\/query\//, '').replace(/^\/stats\/.*$/, 'raw');
  if (body === undefined) return path;
  const detail = [body.group_by === undefined ? '' : `by ${JSON.stringify(body.group_by)}`, body.bucket === undefined ? '' : String(body.bucket), body.environment === undefined ? '' : 'env-filtered'];
  return [path, ...detail.filter(Boolean)].join(' ');
}

function reported(s: Sample): ReportedSample {
  return { at: new Date(s.t).toISOString(), ms: Math.round(s.ms), status: s.status, type: s.type, path: s.path, body: s.request?.body };
}

export async function soakScenario(cluster: ChaosCluster, api: ServiceProcess, base: string, minutes: number, connections = 8): Promise<SoakReport> {
  const pid = serverPid(api);
  const partsCacheBound = loadConfig({ ...process.env, ...cluster.env }).partsCache.maxBytes;
  const writer = startWriter(cluster.pool, 200);
  // alice reads every row; carol only her tenants (test/helpers/http.ts), so her answers are scoped in SQL.
  const users = [
    { bearer: cluster.bearer('alice'), reader: { environments: ['prod', 'uat', 'dev'], statusTopic: true } },
    { bearer: cluster.bearer('carol'), reader: { environments: ['prod'], statusTopic: false } },
  ];
  const loads = users.map((u) => startLoad(base, u.bearer, connections / 2, () => randomRequest(Date.now(), u.reader)));
  const t0 = Date.now();
  const rss: [number, number][] = [];
  const sessions: [number, number][] = [];
  const partsBytes: number[] = [];
  while (Date.now() - t0 < minutes * 60_000) {
    await delay(5_000);
    const m = (Date.now() - t0) / 60_000;
    rss.push([m, rssMb(pid)]);
    partsBytes.push(await scrapeGauge(base, 'eventstats_parts_cache_bytes'));
    const { rows } = await cluster.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'eventstats%'`,
    );
    sessions.push([m, rows[0]!.n]);
  }
  const samples = (await Promise.all(loads.map((l) => l.stop()))).flat();
  const writes = await writer.stop();
  const byStatus: Record<string, number> = {};
  for (const s of samples) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
  // Shapes are told apart by what the request asked, which a sample keeps only when slow or failed;
  // the rest are grouped by path alone. So the table is by path, and the slow ones say the rest.
  const byPath = new Map<string, number[]>();
  for (const s of samples) {
    const k = s.path.replace(/^.*\/query\//, '').replace(/^\/stats\/.*$/, 'raw');
    byPath.set(k, [...(byPath.get(k) ?? []), s.ms]);
  }
  const byShape = Object.fromEntries(
    [...byPath].map(([k, ms]) => {
      const st = summarize(ms);
      return [k, { n: ms.length, p50: Math.round(st.p50), p99: Math.round(st.p99), max: Math.round(st.max) }];
    }),
  );
  const slow = samples.filter((s) => s.request !== undefined);
  const slowByShape: Record<string, number> = {};
  for (const s of slow) slowByShape[shapeOf(s)] = (slowByShape[shapeOf(s)] ?? 0) + 1;
  // The first minute warms caches and pools up; the slope is judged on the rest.
  const warm = <T extends [number, number]>(xs: T[]) => (xs.some(([m]) => m >= 1) && minutes > 2 ? xs.filter(([m]) => m >= 1) : xs);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const ys = (xs: [number, number][]) => xs.map(([, y]) => y);
  return {
    minutes,
    requests: samples.length,
    byStatus,
    writes,
    rssMb: {
      first: r2(rss[0]?.[1] ?? NaN),
      last: r2(rss.at(-1)?.[1] ?? NaN),
      min: r2(Math.min(...ys(rss))),
      max: r2(Math.max(...ys(rss))),
      slopeMbPerMin: r2(slope(warm(rss))),
    },
    sessions: { min: Math.min(...ys(sessions)), max: Math.max(...ys(sessions)), slopePerMin: r2(slope(warm(sessions))) },
    partsCacheBytes: { first: partsBytes[0] ?? NaN, last: partsBytes.at(-1) ?? NaN, max: Math.max(...partsBytes.filter(Number.isFinite)), bound: partsCacheBound },
    byShape,
    slowCount: slow.length,
    slowByShape,
    failures: samples.filter((s) => s.status !== 200).map(reported),
    slowest: [...samples].sort((a, b) => b.ms - a.ms).slice(0, 10).map(reported),
    samples: rss.length,
  };
}
