/**
 * Where the API's RSS goes under the bench's loads: an embedded PostgreSQL with JOBS jobs, the API
 * (dist, the bench's flags and env, plus EXTRA: a JSON object of env), each compiled query's fixed
 * and `days: 7` load at 16 connections for 5 s; VmRSS sampled every 50 ms; per phase the highest
 * RSS, VmHWM after it, and the heap figures of the API's own /metrics. Under the exclusive lock:
 *   JOBS=300000 flock -x /tmp/es-cpu.lock npx tsx bench/rss-phases.ts
 */
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedDatabase } from '../src/db/embedded.ts';
import { SUPPORTED_QUERIES } from '../src/declarations/index.ts';
import { prepareDataset } from '../bench/dataset.ts';
import { withClient } from '../test/helpers/pg-client.ts';
import { freePort, Resources, spawnChild, waitForHttp } from '../bench/processes.ts';
import { apiEnv, createCredentials, REPO_ROOT } from '../bench/api.ts';
import { compiledTarget, dashboardWindow } from '../bench/compiled.ts';
import { measureLoad } from '../bench/load.ts';

const resources = new Resources();
const dir = await mkdtemp(path.join(os.tmpdir(), 'h30-rss-'));
await chmod(dir, 0o755);
// Released last (steps run in reverse): the folder goes once PostgreSQL is down.
resources.add(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
const db = new EmbeddedDatabase({ dir, port: await freePort(), persistent: false, database: 'postgres' });
resources.add('stop pg', () => db.stop());
try {
  const admin = await db.start();
  await withClient(admin, (c) => c.query('CREATE DATABASE h30'));
  const u = new URL(admin); u.pathname = '/h30';
  const ds = await prepareDataset(u.toString(), Number(process.env.JOBS ?? 1_000_000), 42, () => {});
  const credentials = await createCredentials(resources);
  const extra = JSON.parse(process.env.EXTRA ?? '{}') as Record<string, string>;
  const flags = (process.env.FLAGS ?? '--max-semi-space-size=8').split(' ').filter(Boolean);
  const port = await freePort();
  const metricsPort = await freePort();
  const child = spawnChild(resources, 'API', process.execPath, [...flags, 'dist/src/server.js'], { env: apiEnv(u.toString(), credentials, { PORT: String(port), DB_POOL_MAX: '16', METRICS_PORT: String(metricsPort), ...extra }), cwd: REPO_ROOT });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/health`, child);
  const pid = child.pid;
  const status = async () => {
    const s = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)![1]) / 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  };
  const heap = async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const get = (n: string) => Math.round(Number(new RegExp(`^${n}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(text)?.[1] ?? NaN) / 1048576);
    return { heapUsed: get('nodejs_heap_size_used_bytes'), heapTotal: get('nodejs_heap_size_total_bytes'), external: get('nodejs_external_memory_bytes'), parts: get('eventstats_parts_cache_bytes') };
  };
  const w = dashboardWindow(ds.end);
  const phase = async (name: string, run: () => Promise<unknown>) => {
    let max = 0;
    const t = setInterval(() => void status().then((s) => (max = Math.max(max, s.rss))), 50);
    const r = await run();
    clearInterval(t);
    const s = await status();
    console.log(JSON.stringify({ phase: name, maxRss: Math.round(max), hwm: Math.round(s.hwm), rssAfter: Math.round(s.rss), ...(await heap()), rps: (r as { requestsPerSecond?: number })?.requestsPerSecond }));
  };
  await phase('idle', async () => new Promise((r) => setTimeout(r, 500)));
  for (const q of SUPPORTED_QUERIES) {
    const target = compiledTarget(base, `/stats/${q.topic}/query/${q.name}`, { timestamp_start: w.start, timestamp_end: w.end }, credentials.authorization);
    // One request first: a cold read of every segment, apart from the load that follows.
    await phase(`${q.name} first request`, () => fetch(target.url, { method: 'POST', headers: target.headers, body: target.body }).then((r) => r.text()));
    await phase(`${q.name} fixed`, () => measureLoad(target, 16, 1, 5));
    await phase(`${q.name} days`, () => measureLoad({ ...target, body: JSON.stringify({ days: 7 }) }, 16, 1, 5));
  }
} finally {
  await resources.release(() => {});
}
