/**
 * Issue 30 (row texts): the `days: 7` load of QUERIES (default failed_jobs and aggregation_by_catalog)
 * against two API builds on one database, taking turns (before at 1, after at 1, before at 16, after at
 * 16, after at 16, before at 16), beside the one-statement ceiling (bench/ceiling-server.ts, `SELECT 1`
 * a request) in the same run. BEFORE_DIST is the other build's dist folder (a copy of main's `dist/`
 * inside this checkout, so it finds node_modules); this checkout's `dist/` is after. Each API's VmRSS
 * is sampled every 100 ms under its loads, and its VmHWM read at the end.
 *   JOBS=1000000 BEFORE_DIST=dist-main flock -x /tmp/es-cpu.lock npx tsx bench/rows-beside.ts
 * DATABASE_URL: a server to create the database on (npm run pg:system); unset: an embedded PostgreSQL.
 * WINDOWS: `days` (default: `days: 7`), `fixed` (the bench's fixed window, polled; the bare HTTP
 * ceiling is then measured too), or both, comma-separated.
 * REUSE_URL: a seeded, populated database to measure on as it is (`npm run bench -- --keep`), its
 * newest run's start taken as the data's end; nothing is created, seeded or dropped.
 * One JSON line per measurement on stdout.
 */
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedDatabase } from '../src/db/embedded.ts';
import { findQuery } from '../src/declarations/index.ts';
import { withClient } from '../test/helpers/pg-client.ts';
import { apiEnv, createCredentials, REPO_ROOT } from './api.ts';
import { benchCeiling } from './ceiling.ts';
import { compiledTarget, dashboardWindow } from './compiled.ts';
import { prepareDataset } from './dataset.ts';
import { measureLoad } from './load.ts';
import { freePort, peakRssBytes, Resources, spawnChild, waitForHttp, type Child } from './processes.ts';

const JOBS = Number(process.env.JOBS ?? 1_000_000);
const BEFORE = process.env.BEFORE_DIST ?? 'dist-main';
const QUERIES = (process.env.QUERIES ?? 'failed_jobs,aggregation_by_catalog').split(',');
const WINDOWS = (process.env.WINDOWS ?? 'days').split(',') as ('days' | 'fixed')[];
const SETTINGS = { warmupS: 2, durationS: 5, connections: 16, flyRuns: 1 };
const MIB = 1024 * 1024;

const out = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

async function vmRss(pid: number): Promise<number | null> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? null : Number(kb) * 1024;
}

const resources = new Resources();
try {
  let url: string;
  if (process.env.REUSE_URL) {
    url = process.env.REUSE_URL;
  } else if (process.env.DATABASE_URL) {
    const name = `rows_beside_${JOBS}_${Date.now()}`;
    await withClient(process.env.DATABASE_URL, (c) => c.query(`CREATE DATABASE ${name}`));
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = `/${name}`;
    url = u.toString();
    resources.add(`drop ${name}`, () => withClient(process.env.DATABASE_URL!, (c) => c.query(`DROP DATABASE ${name} WITH (FORCE)`)).then(() => {}));
  } else {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rows-beside-'));
    await chmod(dir, 0o755);
    resources.add(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
    const db = new EmbeddedDatabase({ dir, port: await freePort(), persistent: false, database: 'postgres' });
    resources.add('stop pg', () => db.stop());
    const admin = await db.start();
    await withClient(admin, (c) => c.query('CREATE DATABASE rows_beside'));
    const u = new URL(admin);
    u.pathname = '/rows_beside';
    url = u.toString();
  }
  const ds = process.env.REUSE_URL
    ? { end: Number((await withClient(url, (c) => c.query<{ end: string }>('SELECT max(timestamp_start)::text AS end FROM public_cps_za_runs'))).rows[0]!.end) }
    : await prepareDataset(url, JOBS, 42, (line) => process.stderr.write(`${line}\n`));
  const credentials = await createCredentials(resources);
  const w = dashboardWindow(ds.end);
  const server = (await withClient(url, (c) => c.query<{ v: string }>('SELECT version() AS v'))).rows[0]!.v;
  out({ jobs: JOBS, server, before: BEFORE, startedAt: new Date().toISOString() });

  const apis: Record<'before' | 'after', { child: Child; base: string; metrics: string; samples: number[] }> = {} as never;
  for (const [side, dist] of [['before', BEFORE], ['after', 'dist']] as const) {
    const port = await freePort();
    const metricsPort = await freePort();
    const child = spawnChild(resources, `API ${side}`, process.execPath, ['--max-semi-space-size=8', `${dist}/src/server.js`], {
      env: apiEnv(url, credentials, { PORT: String(port), DB_POOL_MAX: '16', METRICS_PORT: String(metricsPort) }),
      cwd: REPO_ROOT,
    });
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/health`, child);
    apis[side] = { child, base, metrics: `http://127.0.0.1:${metricsPort}/metrics`, samples: [] };
  }
  /** The API's heap and parts cache as its /metrics says (MiB). */
  const heapOf = async (side: 'before' | 'after') => {
    const text = await (await fetch(apis[side].metrics)).text();
    const get = (name: string) => {
      const v = new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text)?.[1];
      return v === undefined ? null : +(Number(v) / MIB).toFixed(1);
    };
    return { heapUsedMiB: get('nodejs_heap_size_used_bytes'), heapTotalMiB: get('nodejs_heap_size_total_bytes'), externalMiB: get('nodejs_external_memory_bytes'), partsCacheMiB: get('eventstats_parts_cache_bytes') };
  };

  const load = async (side: 'before' | 'after', name: string, connections: number, window: 'days' | 'fixed') => {
    const q = findQuery('public.cps.za.runs', name as never)!;
    const api = apis[side];
    const fixed = compiledTarget(api.base, `/stats/${q.topic}/query/${q.name}`, { timestamp_start: w.start, timestamp_end: w.end }, credentials.authorization);
    const target = window === 'fixed' ? fixed : { ...fixed, body: JSON.stringify({ days: 7 }) };
    const sampler = setInterval(() => void vmRss(api.child.pid).then((b) => b !== null && api.samples.push(b)), 100);
    try {
      const r = await measureLoad(target, connections, SETTINGS.warmupS, SETTINGS.durationS);
      out({ side, query: name, window, connections, rps: Math.round(r.requestsPerSecond), p50: r.latencyMs.p50, p99: r.latencyMs.p99, non2xx: r.non2xx, errors: r.errors });
      return r;
    } finally {
      clearInterval(sampler);
    }
  };

  for (const window of WINDOWS) {
    for (const name of QUERIES) {
      await load('before', name, 1, window);
      await load('after', name, 1, window);
      await load('before', name, SETTINGS.connections, window);
      await load('after', name, SETTINGS.connections, window);
      await load('after', name, SETTINGS.connections, window);
      await load('before', name, SETTINGS.connections, window);
    }
  }
  for (const side of ['before', 'after'] as const) {
    const { child, samples } = apis[side];
    const hwm = await peakRssBytes(child.pid);
    const heap = await heapOf(side).catch(() => ({}));
    out({ side, peakRssMiB: hwm === null ? null : +(hwm / MIB).toFixed(1), maxSampledRssMiB: +(Math.max(...samples) / MIB).toFixed(1), samples: samples.length, ...heap });
  }
  for (const side of ['before', 'after'] as const) await apis[side].child.stop();

  // The one-statement ceiling, sending the after-API's answer as its constant body.
  const q = findQuery('public.cps.za.runs', QUERIES[0] as never)!;
  const queryPath = `/stats/${q.topic}/query/${q.name}`;
  const port = await freePort();
  const api = spawnChild(resources, 'API for the ceiling body', process.execPath, ['dist/src/server.js'], { env: apiEnv(url, credentials, { PORT: String(port) }), cwd: REPO_ROOT });
  await waitForHttp(`http://127.0.0.1:${port}/health`, api);
  const headers = { authorization: credentials.authorization, 'content-type': 'application/json' };
  const json: unknown = await (await fetch(`http://127.0.0.1:${port}${queryPath}`, { method: 'POST', headers, body: JSON.stringify({ days: 7 }) })).json();
  await api.stop();
  const ceiling = await benchCeiling(resources, { query: q.name, path: queryPath, json, requestBody: JSON.stringify({ days: 7 }), headers }, SETTINGS, url);
  out({ side: 'one-statement ceiling', bodyOf: q.name, responseBytes: ceiling.responseBytes, rps1: Math.round(ceiling.oneConnection.requestsPerSecond), p50: ceiling.oneConnection.latencyMs.p50, rps: Math.round(ceiling.concurrent.requestsPerSecond) });
  // The bare HTTP ceiling (no statement), which a fixed window's poll is judged against.
  if (WINDOWS.includes('fixed')) {
    const http = await benchCeiling(resources, { query: q.name, path: queryPath, json, requestBody: JSON.stringify({ days: 7 }), headers }, SETTINGS);
    out({ side: 'HTTP ceiling', bodyOf: q.name, responseBytes: http.responseBytes, rps1: Math.round(http.oneConnection.requestsPerSecond), p50: http.oneConnection.latencyMs.p50, rps: Math.round(http.concurrent.requestsPerSecond) });
  }
} finally {
  await resources.release(() => {});
}
