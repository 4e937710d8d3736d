/**
 * --cpu-prof of the API (dist, the bench's flags) under one load at 16 connections for 5 s, for the
 * bench's fixed window and `days: 7`: an embedded PostgreSQL with JOBS jobs (default 1M), QUERIES
 * (default failed_jobs), WINDOWS (default fixed,days). Profiles land in /tmp/h30-prof/<query>-<window>/; read them with
 * bench/cpu-profile-summary.ts. Run under the exclusive lock:
 *   JOBS=300000 flock -x /tmp/es-cpu.lock npx tsx bench/cpu-profile.ts
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedDatabase } from '../src/db/embedded.ts';
import { findQuery } from '../src/declarations/index.ts';
import { prepareDataset } from '../bench/dataset.ts';
import { withClient } from '../test/helpers/pg-client.ts';
import { freePort, Resources, spawnChild, waitForHttp } from '../bench/processes.ts';
import { apiEnv, createCredentials, REPO_ROOT } from '../bench/api.ts';
import { compiledTarget, dashboardWindow } from '../bench/compiled.ts';
import { measureLoad } from '../bench/load.ts';

const resources = new Resources();
const dir = await mkdtemp(path.join(os.tmpdir(), 'h30-prof-'));
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
  const w = dashboardWindow(ds.end);
  const windows = [['fixed', { timestamp_start: w.start, timestamp_end: w.end }], ['days', { days: 7 }]] as const;
  for (const [label, body] of windows.filter(([l]) => (process.env.WINDOWS ?? 'fixed,days').split(',').includes(l))) {
    for (const name of (process.env.QUERIES ?? 'failed_jobs').split(',')) {
      const q = findQuery('public.cps.za.runs', name as never)!;
      const port = await freePort();
      const profDir = `${process.env.PROF_DIR ?? '/tmp/h30-prof'}/${name}-${label}`;
      const child = spawnChild(resources, 'API', process.execPath, ['--max-semi-space-size=8', '--cpu-prof', `--cpu-prof-dir=${profDir}`, 'dist/src/server.js'], { env: apiEnv(u.toString(), credentials, { PORT: String(port), DB_POOL_MAX: '16' }), cwd: REPO_ROOT });
      const base = `http://127.0.0.1:${port}`;
      await waitForHttp(`${base}/health`, child);
      const target = { ...compiledTarget(base, `/stats/${q.topic}/query/${q.name}`, { timestamp_start: w.start, timestamp_end: w.end }, credentials.authorization), body: JSON.stringify(body) };
      const r = await measureLoad(target, 16, 1, 5);
      console.log(name, label, r.requestsPerSecond);
      await child.stop();
    }
  }
} finally {
  await resources.release(() => {});
}
