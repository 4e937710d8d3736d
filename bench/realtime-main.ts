/**
 * npm run bench:realtime -- --database URL [--seconds S] [--rounds N]: bench/realtime.ts against a
 * database prepared elsewhere (bench:incremental --database, or npm start): starts an API on it,
 * measures, writes bench/results/<date>-realtime.json. The rows it writes stay (they are absorbed).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createCredentials, startApi } from './api.ts';
import { Resources } from './processes.ts';
import { benchRealtime } from './realtime.ts';

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
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${new Date().toISOString().slice(0, 10)}-realtime.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${file}`);
} finally {
  await pool.end();
  await resources.release(log);
}
