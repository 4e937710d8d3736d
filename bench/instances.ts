/**
 * npm run bench:instances -- [--jobs N] [--database URL] [--processes 1,2,4] [--connections 16]
 *   [--seconds S] [--entry tsx|dist]
 *
 * One API process against several (WEB_CONCURRENCY, node:cluster) on the same dataset in one run:
 * every compiled query's dashboard read at 16 connections, req/s, p50 and p99, for each process
 * count in turn. On a 2-core machine the load generator and PostgreSQL share the cores with the API,
 * so the figures show where the CPU, not the design, is the limit. The dataset is seeded into a
 * database of its own (an embedded PostgreSQL unless --database names a server), dropped at the end.
 * Writes bench/results/<date>-instances-<jobs>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { SUPPORTED_QUERIES } from '../src/declarations/index.ts';
import { apiArgs, createCredentials, startApi } from './api.ts';
import { compiledTarget, dashboardWindow } from './compiled.ts';
import { startServer } from './database.ts';
import { prepareDataset } from './dataset.ts';
import { measureLoad } from './load.ts';
import { Resources } from './processes.ts';
import { round } from './stats.ts';

const log = (line: string) => process.stdout.write(`${line}\n`);
const resources = new Resources();
process.once('exit', () => resources.releaseAtExit());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void resources.release(log).finally(() => process.exit(130)));

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    database: { type: 'string' },
    processes: { type: 'string', default: '1,2,4' },
    connections: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '10' },
    entry: { type: 'string', default: 'tsx' },
  },
});
const jobs = Number(values.jobs);
const counts = values.processes.split(',').map(Number);
const connections = Number(values.connections);
const seconds = Number(values.seconds);
const entry = values.entry === 'dist' ? 'dist' : 'tsx';
if (!Number.isInteger(jobs) || jobs < 1 || counts.some((n) => !Number.isInteger(n) || n < 1) || !(seconds > 0) || !(connections > 0)) {
  throw new Error('usage: npm run bench:instances -- [--jobs N] [--database URL] [--processes 1,2,4] [--connections 16] [--seconds S] [--entry tsx|dist]');
}

try {
  const server = await startServer(values.database, false, resources, log);
  const db = await server.createDatabase('instances');
  log(`seeding ${jobs} jobs`);
  const dataset = await prepareDataset(db.url, jobs, 42, log);
  const credentials = await createCredentials(resources);
  const window = dashboardWindow(dataset.end);
  const body = { timestamp_start: window.start, timestamp_end: window.end };
  const rows = [];
  for (const processes of counts) {
    // METRICS=off for every count alike: a cluster with metrics needs METRICS_PORT, and scrapes are not measured here.
    const api = await startApi(resources, db.url, credentials, entry, { WEB_CONCURRENCY: String(processes), METRICS: 'off' });
    for (const q of SUPPORTED_QUERIES) {
      const target = compiledTarget(api.baseUrl, `/stats/${q.topic}/query/${q.name}`, body, credentials.authorization);
      const r = await measureLoad(target, connections, 2, seconds);
      const row = {
        processes,
        query: q.name,
        connections,
        requestsPerSecond: round(r.requestsPerSecond),
        p50: r.latencyMs.p50,
        p99: r.latencyMs.p99,
        non2xx: r.non2xx,
        errors: r.errors + r.timeouts,
      };
      log(`${processes} process(es) ${q.name}: ${row.requestsPerSecond} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms${row.non2xx ? `, ${row.non2xx} non-2xx` : ''}`);
      rows.push(row);
    }
    await api.child.stop();
  }
  const file = `bench/results/${new Date().toISOString().slice(0, 10)}-instances-${jobs}.json`;
  mkdirSync('bench/results', { recursive: true });
  const machine = { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryBytes: os.totalmem(), node: process.version };
  writeFileSync(
    file,
    `${JSON.stringify({ jobs, runs: dataset.runs, machine, api: { command: ['node', ...apiArgs(entry)].join(' '), poolMaxPerProcess: 16 }, durationS: seconds, rows }, null, 2)}\n`,
  );
  log(`wrote ${file}`);
  await db.drop();
} finally {
  await resources.release(log);
}
