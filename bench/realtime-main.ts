/**
 * npm run bench:realtime -- --database URL [--seconds S] [--rounds N]: bench/realtime.ts against a
 * database prepared elsewhere (bench:incremental --database, or npm start): starts an API on it,
 * measures, writes bench/results/<date>-realtime.json. The rows it writes stay (they are absorbed).
 * Then the price of real time itself: every compiled query's dashboard read, nothing unabsorbed,
 * from this API and from a second one with REALTIME=off, taking turns (p50 at 1 connection, req/s
 * at 16).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createCredentials, startApi } from './api.ts';
import { Resources } from './processes.ts';
import { benchRealtime } from './realtime.ts';
import { SUPPORTED_QUERIES } from '../src/declarations/index.ts';
import { compiledTarget, dashboardWindow } from './compiled.ts';
import { measureLoad } from './load.ts';
import { median } from './stats.ts';

const log = (line: string) => process.stdout.write(`${line}\n`);
const resources = new Resources();
process.once('exit', () => resources.releaseAtExit());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void resources.release(log).finally(() => process.exit(130)));

const { values } = parseArgs({ options: { database: { type: 'string' }, seconds: { type: 'string', default: '8' }, rounds: { type: 'string', default: '3' } } });
if (!values.database) throw new Error('usage: npm run bench:realtime -- --database URL [--seconds S] [--rounds N]');
const pool = new pg.Pool({ connectionString: values.database, max: 2 });
pool.on('error', () => {});
try {
  const credentials = await createCredentials(resources);
  const api = await startApi(resources, values.database, credentials, 'tsx');
  // The dashboard's window ends now, as a live dashboard's does (the writes land in its last minutes).
  const result = await benchRealtime({
    baseUrl: api.baseUrl,
    authorization: credentials.authorization,
    pool,
    now: Date.now(),
    settings: { warmupS: 2, durationS: Number(values.seconds) },
    rounds: Number(values.rounds),
    log,
  });
  for (const s of result.states) {
    log(`${s.minutes} min unabsorbed (${JSON.stringify(s.written)}):`);
    for (const q of s.queries) log(`  ${q.query}: p50 ${q.absorbedP50} -> ${q.unabsorbedP50} ms (${q.ratio}x), tail_rows ${q.tailRows}, realtime ${q.realtime}`);
  }
  const off = await startApi(resources, values.database, credentials, 'tsx', { REALTIME: 'off' });
  const window = dashboardWindow(Date.now());
  const body = { timestamp_start: window.start, timestamp_end: window.end };
  const price = [];
  for (const q of SUPPORTED_QUERIES) {
    const path = `/stats/${q.topic}/query/${q.name}`;
    const on = compiledTarget(api.baseUrl, path, body, credentials.authorization);
    const asOf = compiledTarget(off.baseUrl, path, body, credentials.authorization);
    const rounds = { on: [] as number[], off: [] as number[], onRps: [] as number[], offRps: [] as number[] };
    for (let i = 0; i < Number(values.rounds); i++) {
      rounds.on.push((await measureLoad(on, 1, 2, Number(values.seconds) / 2)).latencyMs.p50);
      rounds.off.push((await measureLoad(asOf, 1, 2, Number(values.seconds) / 2)).latencyMs.p50);
      rounds.onRps.push(Math.round((await measureLoad(on, 16, 1, Number(values.seconds) / 2)).requestsPerSecond));
      rounds.offRps.push(Math.round((await measureLoad(asOf, 16, 1, Number(values.seconds) / 2)).requestsPerSecond));
    }
    const row = { query: q.name, p50On: median(rounds.on), p50Off: median(rounds.off), rpsOn: median(rounds.onRps), rpsOff: median(rounds.offRps), rounds };
    log(`  ${q.name}: p50 ${row.p50On} ms real-time, ${row.p50Off} ms as of the cycle; req/s @16 ${row.rpsOn} / ${row.rpsOff}`);
    price.push(row);
  }
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${new Date().toISOString().slice(0, 10)}-realtime.json`;
  writeFileSync(file, `${JSON.stringify({ ...result, realtimeOnOff: price }, null, 2)}\n`);
  log(`wrote ${file}`);
} finally {
  await pool.end();
  await resources.release(log);
}
