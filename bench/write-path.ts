/**
 * npm run bench:write-path -- --database URL [--seconds S] [--rounds R] [--clients 1,4]: what the
 * maintenance triggers cost the gateway's writers, measured with pgbench (PostgreSQL's client
 * tools must be installed) on a migrated, seeded database, with EventStats' triggers enabled and
 * disabled in alternating rounds:
 *   - insert path: one run and 5 jobs per transaction, as the gateway's writer does it (no
 *     EventStats trigger fires on INSERT into runs or jobs; this proves it costs nothing);
 *   - status path: one upsert of a status-change row per transaction (INSERT ... ON CONFLICT DO
 *     UPDATE that changes status_type), which the status triggers record.
 * Prints tps and mean latency per round and the ratio with/without; writes bench/results/.
 *
 * `--paths cycles` [--cycle-seconds C] [--rounds R]: what the maintenance cycles cost the insert
 * path, with and without one writer transaction held open across them, each pair in alternating
 * order over R rounds (bench/write-path-cycles.ts; no pgbench).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { TABLES } from '../src/db/tables.ts';
import { cyclePhases, summarize } from './write-path-cycles.ts';

const INSERT_PATH = `\\set n random(1, 1000000000)
BEGIN;
INSERT INTO ${TABLES.runs} (event_id, job_ref, tenant_id, source_app, source_app_version, environment, timestamp_start, timestamp_end)
VALUES ('pgb-' || :n || '-' || :client_id, 'ref', 'tenant-01', 'pipeline-pgbench', '1', 'prod', (extract(epoch FROM now()) * 1000)::bigint, NULL);
INSERT INTO ${TABLES.runsJobs} (event_id, country, catalog_id, status, timestamp_start, timestamp_end)
SELECT 'pgb-' || :n || '-' || :client_id, 'ZA', 'catalog-' || i, 'succeeded', (extract(epoch FROM now()) * 1000)::bigint, NULL FROM generate_series(1, 5) AS i;
COMMIT;
`;

const STATUS_PATH = `\\set k random(1, 200000)
INSERT INTO ${TABLES.statusChange} AS s (job_id, tenant_id, source_app, environment, status_type, created_at, last_updated_at)
VALUES (md5(:k::text)::uuid, 'tenant-01', 'pipeline-pgbench', 'prod', 'RUNNING', now() - (:k || ' seconds')::interval, now())
ON CONFLICT (job_id) DO UPDATE
   SET status_type = CASE WHEN s.status_type = 'RUNNING' THEN 'SUCCEEDED' ELSE 'RUNNING' END, last_updated_at = EXCLUDED.last_updated_at;
`;

const TRIGGERED = [TABLES.runs, TABLES.runsJobs, TABLES.statusChange];

function pgbench(url: string, script: string, clients: number, seconds: number): { tps: number; latencyMs: number } {
  const u = new URL(url);
  const out = execFileSync(
    'pgbench',
    ['-n', '-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username), '-f', script, '-c', String(clients), '-j', String(clients), '-T', String(seconds), u.pathname.slice(1)],
    { env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) }, encoding: 'utf8' },
  );
  const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
  const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]);
  return { tps, latencyMs };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      database: { type: 'string' },
      seconds: { type: 'string', default: '20' },
      rounds: { type: 'string', default: '3' },
      clients: { type: 'string', default: '1,4' },
      paths: { type: 'string', default: 'insert,status' },
      'cycle-seconds': { type: 'string', default: '3' },
    },
  });
  if (!values.database) throw new Error('--database URL is required (a migrated, seeded database)');
  const url = values.database;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eventstats-pgbench-'));
  const scripts = { insert: path.join(dir, 'insert.sql'), status: path.join(dir, 'status.sql') };
  writeFileSync(scripts.insert, INSERT_PATH);
  writeFileSync(scripts.status, STATUS_PATH);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const setTriggers = async (on: boolean) => {
    for (const t of TRIGGERED) await admin.query(`ALTER TABLE ${t} ${on ? 'ENABLE' : 'DISABLE'} TRIGGER USER`);
  };
  const results: Record<string, unknown>[] = [];
  if (values.paths.split(',').includes('cycles')) {
    const options = { seconds: Number(values.seconds), cycleSeconds: Number(values['cycle-seconds']), rounds: Number(values.rounds) };
    const phases = await cyclePhases(url, options, (l) => process.stdout.write(`${l}\n`));
    results.push({ path: 'cycles', ...options, phases, rounds: summarize(phases) });
  }
  try {
    for (const [pathName, script] of Object.entries(scripts).filter(([name]) => values.paths.split(',').includes(name))) {
      for (const clients of values.clients.split(',').map(Number)) {
        const rounds: { triggers: boolean; tps: number; latencyMs: number }[] = [];
        for (let r = 0; r < Number(values.rounds); r++) {
          for (const triggers of r % 2 ? [false, true] : [true, false]) {
            await setTriggers(triggers);
            const m = pgbench(url, script, clients, Number(values.seconds));
            rounds.push({ triggers, ...m });
            process.stdout.write(`${pathName} ${clients} client(s) triggers ${triggers ? 'on ' : 'off'}: ${m.tps.toFixed(0)} tps, ${m.latencyMs.toFixed(3)} ms\n`);
          }
        }
        const mean = (on: boolean, k: 'tps' | 'latencyMs') => rounds.filter((x) => x.triggers === on).reduce((a, x) => a + x[k], 0) / Number(values.rounds);
        const summary = { path: pathName, clients, tpsOn: mean(true, 'tps'), tpsOff: mean(false, 'tps'), latencyOn: mean(true, 'latencyMs'), latencyOff: mean(false, 'latencyMs'), rounds };
        process.stdout.write(`${pathName} ${clients}: latency with/without ${(summary.latencyOn / summary.latencyOff).toFixed(3)}, tps ${(summary.tpsOn / summary.tpsOff).toFixed(3)}\n`);
        results.push(summary);
      }
    }
  } finally {
    await setTriggers(true);
    await admin.end();
  }
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/${new Date().toISOString().slice(0, 10)}-write-path.json`;
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`wrote ${file}\n`);
}

await main();
