/**
 * npm run bench:pooler -- [--jobs N] [--seconds S] [--rounds R] [--connections C] [--pool-size P] [--entry dist|tsx]:
 * the API through PgBouncer in `pool_mode = transaction` (DB_POOLER=transaction: BEGIN READ ONLY +
 * SET LOCAL per statement, unnamed statements) against the same API connected directly, at one
 * dataset size: every compiled query's 7-day dashboard read, p50 and req/s at C connections (16).
 * Both APIs run at once on one database, and the two sides take turns within each query for R
 * rounds (the order swapped every round), so that a shared machine's drift lands on both alike.
 * PostgreSQL: DATABASE_URL's server, else a throwaway embedded one; PgBouncer: test/helpers/pgbouncer.ts
 * (PGBOUNCER_PATH or /usr/sbin/pgbouncer), with P server connections (default: the API's DB_POOL_MAX, 16).
 */
import { parseArgs } from 'node:util';
import { SUPPORTED_QUERIES } from '../src/declarations/index.ts';
import { pgbouncerAvailable, startPgBouncer } from '../test/helpers/pgbouncer.ts';
import { createCredentials, startApi } from './api.ts';
import { compiledTarget, dashboardWindow } from './compiled.ts';
import { startServer } from './database.ts';
import { prepareDataset } from './dataset.ts';
import { measureLoad, type LoadResult } from './load.ts';
import { Resources } from './processes.ts';
import { median, ratio, round } from './stats.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
    'pool-size': { type: 'string', default: '16' },
    entry: { type: 'string', default: 'tsx' },
  },
});
const jobs = Number(values.jobs);
const seconds = Number(values.seconds);
const warmupS = Number(values.warmup);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const poolSize = Number(values['pool-size']);
const entry = values.entry === 'dist' ? 'dist' : 'tsx';
for (const [name, v] of Object.entries({ jobs, seconds, warmupS, rounds, connections, poolSize })) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name}: not a number`);
}
const log = (line: string) => process.stderr.write(`${line}\n`);
if (!pgbouncerAvailable()) {
  log('PgBouncer is not installed: apt-get install pgbouncer, or set PGBOUNCER_PATH');
  process.exit(2);
}

const resources = new Resources();
process.on('exit', () => resources.releaseAtExit());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void resources.release(log).finally(() => process.exit(130)));

interface Side {
  readonly p50s: number[];
  readonly rps: number[];
  non2xx: number;
}

try {
  const server = await startServer(process.env.DATABASE_URL, false, resources, log);
  const { url } = await server.createDatabase(`pooler_${jobs}`);
  log(`preparing ${jobs} jobs`);
  await prepareDataset(url, jobs, 7, log);
  const credentials = await createCredentials(resources);
  const bouncer = await startPgBouncer(url, { defaultPoolSize: poolSize, maxClientConn: 1000 });
  resources.add('stop PgBouncer', () => bouncer.stop());
  const apiEnv = { DB_POOL_MAX: String(Math.max(connections, 16)), METRICS: 'off' };
  const direct = await startApi(resources, url, credentials, entry, { ...apiEnv, DB_POOLER: 'none' });
  const pooled = await startApi(resources, bouncer.url, credentials, entry, { ...apiEnv, DB_POOLER: 'transaction' });
  const w = dashboardWindow(Date.now());
  const out = [];
  for (const q of SUPPORTED_QUERIES) {
    const path = `/stats/${q.topic}/query/${q.name}`;
    const body = { timestamp_start: w.start, timestamp_end: w.end };
    const targets = { direct: compiledTarget(direct.baseUrl, path, body, credentials.authorization), pooled: compiledTarget(pooled.baseUrl, path, body, credentials.authorization) };
    const sides: Record<'direct' | 'pooled', Side> = { direct: { p50s: [], rps: [], non2xx: 0 }, pooled: { p50s: [], rps: [], non2xx: 0 } };
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? (['direct', 'pooled'] as const) : (['pooled', 'direct'] as const);
      for (const side of order) {
        const r: LoadResult = await measureLoad(targets[side], connections, i === 0 ? warmupS : 0, seconds);
        sides[side].p50s.push(round(r.latencyMs.p50));
        sides[side].rps.push(Math.round(r.requestsPerSecond));
        sides[side].non2xx += r.non2xx + r.errors + r.timeouts;
      }
    }
    const summary = (s: Side) => ({ p50: round(median(s.p50s)), rps: Math.round(median(s.rps)), p50s: s.p50s, rpsRounds: s.rps, failures: s.non2xx });
    const row = { query: q.name, connections, direct: summary(sides.direct), pgbouncer: summary(sides.pooled) };
    const line = { ...row, p50Ratio: ratio(row.pgbouncer.p50, row.direct.p50), rpsRatio: ratio(row.pgbouncer.rps, row.direct.rps) };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    out.push(line);
  }
  log(`jobs ${jobs}, ${connections} connections, PgBouncer default_pool_size ${poolSize}, ${rounds} rounds of ${seconds} s per side and query`);
  for (const r of out) {
    log(`  ${r.query.padEnd(24)} p50 ${r.direct.p50} ms direct / ${r.pgbouncer.p50} ms PgBouncer   req/s ${r.direct.rps} / ${r.pgbouncer.rps}   failures ${r.direct.failures} / ${r.pgbouncer.failures}`);
  }
} finally {
  await resources.release(log);
}
