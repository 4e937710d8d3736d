import { Resources, freePort, spawnChild, waitForHttp } from '../bench/processes.ts';
import { apiEnv, createCredentials, REPO_ROOT } from '../bench/api.ts';
import { findQuery } from '../src/declarations/index.ts';
import { measureLoad } from '../bench/load.ts';
import { compiledTarget } from '../bench/compiled.ts';
const resources = new Resources();
const url = process.env.DATABASE_URL!;
try {
  const credentials = await createCredentials(resources);
  for (const name of (process.env.QUERIES ?? 'aggregation_by_catalog').split(',')) {
    const q = findQuery('public.cps.za.runs', name as never)!;
    const port = await freePort(); const mport = await freePort();
    const child = spawnChild(resources, 'API', process.execPath, [...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/s37/prof10m'] : []), 'dist/src/server.js'], { env: apiEnv(url, credentials, { PORT: String(port), DB_POOL_MAX: '16', METRICS_PORT: String(mport) }), cwd: process.env.ROOT ?? REPO_ROOT });
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/health`, child);
    const target = { ...compiledTarget(base, `/stats/${q.topic}/query/${q.name}`, { timestamp_start: 0, timestamp_end: 1 }, credentials.authorization), body: JSON.stringify({ days: 7 }) };
    const r = await measureLoad(target, 16, 1, 5);
    console.log(name, 'rps', r.requestsPerSecond, 'p50', r.latencyMs.p50);
    const m = await (await fetch(`http://127.0.0.1:${mport}/metrics`)).text();
    console.log(m.split('\n').filter((l) => /parts_cache_(hits|misses)/.test(l) && !l.startsWith('#')).join('\n'));
    await child.stop();
  }
} finally { await resources.release(() => {}); }
