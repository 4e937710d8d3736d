/**
 * npm run bench:write-path:local -- [--runs N] [--seconds S] [--cycle-seconds C] [--paths cycles,status,insert] [--rounds R]:
 * bench:write-path on a throwaway embedded PostgreSQL, migrated and seeded with N runs (about 5 jobs
 * each) ending now, its views built once; the server and its folder are removed afterwards. The
 * `cycles` path runs here; `status` and `insert` run bench/write-path.ts (pgbench) against it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migrateUp } from '../src/db/migrate.ts';
import { registeredViews } from '../src/declarations/index.ts';
import { refreshViews } from '../src/refresh/refresh-view.ts';
import { seed } from '../src/seed/index.ts';
import { startServer } from './database.ts';
import { Resources } from './processes.ts';
import { cyclePhases, summarize } from './write-path-cycles.ts';

const log = (line: string) => process.stdout.write(`${line}\n`);
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '20' },
    'cycle-seconds': { type: 'string', default: '3' },
    paths: { type: 'string', default: 'cycles' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '1' },
  },
});
const resources = new Resources();
process.once('exit', () => resources.releaseAtExit());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void resources.release(log).finally(() => process.exit(130)));
try {
  const server = await startServer(undefined, false, resources, log);
  const { url } = await server.createDatabase('write_path');
  await migrateUp(url);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  await seed(pool, { runs: Number(values.runs), days: 30, end: Date.now(), seed: 25 });
  await pool.query('VACUUM ANALYZE');
  await refreshViews(pool, registeredViews(), { statementTimeoutMs: 3_600_000, lockTimeoutMs: 60_000 });
  await pool.end();
  const paths = values.paths.split(',');
  const pgbenchPaths = paths.filter((p) => p !== 'cycles');
  if (pgbenchPaths.length) {
    const args = ['--import', 'tsx', 'bench/write-path.ts', '--database', url, '--paths', pgbenchPaths.join(','), '--seconds', values.seconds, '--rounds', values.rounds, '--clients', values.clients];
    execFileSync(process.execPath, args, { stdio: 'inherit' });
  }
  if (paths.includes('cycles')) {
    const phases = await cyclePhases(url, { seconds: Number(values.seconds), cycleSeconds: Number(values['cycle-seconds']), rounds: Number(values.rounds) }, log);
    mkdirSync('bench/results', { recursive: true });
    const file = `bench/results/${new Date().toISOString().slice(0, 10)}-write-path-cycles.json`;
    writeFileSync(file, `${JSON.stringify({ runs: Number(values.runs), seconds: Number(values.seconds), cycleSeconds: Number(values['cycle-seconds']), phases, rounds: summarize(phases) }, null, 2)}\n`);
    log(`wrote ${file}`);
  }
} finally {
  await resources.release(log);
}
