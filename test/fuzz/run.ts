/**
 * `npm run fuzz [-- --cases N --seed S --concurrency C --now MS --only I]`: the HTTP fuzz of
 * test/helpers/fuzz.ts at scale (10,000 cases by default). The server under test is the real entry,
 * src/server.ts, in a child process on 127.0.0.1 (with --expose-gc and test/fuzz/heap-probe.ts), over a
 * throwaway embedded PostgreSQL that this script migrates, seeds and stops again.
 *
 * Prints the case count, the seed, the answers by status, the server's heap after a forced GC at the
 * start, after a warm-up and at the end, and its event-loop delay. Exits 1 when a case breaks an
 * invariant (each is printed, with the index to replay it by: --seed S --now MS --only I) or the server
 * died; `--seed` and `--now` together replay a run exactly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import pg from 'pg';
import { Resources, freePort } from '../../bench/processes.ts';
import { EmbeddedDatabase } from '../../src/db/embedded.ts';
import { migrateUp } from '../../src/db/migrate.ts';
import { registeredViews } from '../../src/declarations/index.ts';
import { refreshViews } from '../../src/refresh/refresh-view.ts';
import { seed } from '../../src/seed/index.ts';
import { REFRESH_OPTIONS } from '../helpers/fixtures.ts';
import { describeCase, fuzzCase, send, Tokens, violations, type FuzzCase } from '../helpers/fuzz.ts';
import { ACCESS } from '../helpers/http.ts';
import type { HeapReport } from './heap-probe.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const DAY_MS = 86_400_000;
const SEEDED_RUNS = 2_000;
const MAX_PRINTED_FAILURES = 10;

const log = (line: string) => process.stdout.write(`${line}\n`);

function options() {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string', default: '10000' },
      seed: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      now: { type: 'string' },
      only: { type: 'string' },
    },
    strict: true,
  });
  const int = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer of at least ${min}, got '${v}'`);
    return n;
  };
  return {
    cases: int('cases', values.cases, 1)!,
    seed: int('seed', values.seed, 0) ?? Math.floor(Math.random() * 2 ** 31),
    concurrency: int('concurrency', values.concurrency, 1)!,
    // The seeded data ends at the start of today (UTC) unless told otherwise, so a replay on the same day is exact.
    now: int('now', values.now, 0) ?? Math.floor(Date.now() / DAY_MS) * DAY_MS,
    only: int('only', values.only, 0),
  };
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/** Asks the server for its heap after a forced GC (see heap-probe.ts). */
function heapOf(child: ChildProcess): Promise<HeapReport> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not report its heap within 10 s')), 10_000);
    child.once('message', (m: HeapReport) => {
      clearTimeout(timer);
      resolve(m);
    });
    child.send({ type: 'heap' });
  });
}

async function waitForHealth(port: number, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before answering:\n${readFileSync(logFile, 'utf8').slice(-2_000)}`);
    const status = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`no healthy answer within 60 s (last status ${status}):\n${readFileSync(logFile, 'utf8').slice(-2_000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(): Promise<number> {
  const opts = options();
  const resources = new Resources();
  process.once('SIGINT', () => void resources.release(log).then(() => process.exit(130)));
  process.once('exit', () => resources.releaseAtExit());
  try {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-fuzz-'));
    // The embedded server runs as an unprivileged user when we are root; it must reach pgdata below.
    await chmod(dir, 0o755);
    resources.add(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));

    log(`fuzz: seed ${opts.seed}, ${opts.cases} cases, concurrency ${opts.concurrency}, now ${opts.now} (${new Date(opts.now).toISOString()})`);
    const embedded = new EmbeddedDatabase({ dir: path.join(dir, 'pg'), port: await freePort(), persistent: false, database: 'eventstats_fuzz' });
    resources.add('stop embedded PostgreSQL', () => embedded.stop());
    const url = await embedded.start();
    await migrateUp(url);
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      await seed(pool, { runs: SEEDED_RUNS, days: 30, end: opts.now, seed: 7 });
      await refreshViews(pool, registeredViews(), REFRESH_OPTIONS);
    } finally {
      await pool.end();
    }
    log(`database: embedded PostgreSQL, migrated, ${SEEDED_RUNS} runs seeded over the 30 days before now, views refreshed`);

    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keysFile = path.join(dir, 'public-keys.json');
    const accessFile = path.join(dir, 'access.json');
    await writeFile(keysFile, JSON.stringify({ keys: [{ key: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') }] }));
    await writeFile(accessFile, JSON.stringify(ACCESS));
    const tokens = new Tokens(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());

    const port = await freePort();
    const logFile = path.join(dir, 'server.log');
    const out = openSync(logFile, 'a');
    // No worker runs here: a yearly schedule keeps /health from calling the views stale during the run.
    const schedules = Object.fromEntries(registeredViews().map((v) => [v.name, '0 0 1 1 *']));
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--import', path.join(REPO_ROOT, 'test/fuzz/heap-probe.ts'), 'src/server.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        DATABASE_URL: url,
        PORT: String(port),
        TOKEN_PUBLIC_KEYS_URL: keysFile,
        ACCESS_CONFIG: accessFile,
        LOG_LEVEL: 'warn',
        // Off the fixed default port (9465), which another server on this machine may hold.
        METRICS_PORT: '0',
        REFRESH_SCHEDULES: JSON.stringify(schedules),
      },
      stdio: ['ignore', out, out, 'ipc'],
    });
    closeSync(out);
    let exited: string | undefined;
    child.on('exit', (code, signal) => (exited = `exit code ${code}, signal ${signal}`));
    resources.add(
      `stop the server (pid ${child.pid})`,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      },
      () => void child.kill('SIGKILL'),
    );
    await waitForHealth(port, child, logFile);
    const pid = child.pid;
    log(`server: src/server.ts, pid ${pid}, on 127.0.0.1:${port}`);

    const all = fc.sample(fuzzCase(opts.now), { seed: opts.seed, numRuns: opts.cases });
    const indices = opts.only === undefined ? all.map((_, i) => i) : [opts.only];
    const statuses = new Map<string, number>();
    const failures: { index: number; broken: string[]; c: FuzzCase }[] = [];
    let done = 0;

    async function run(from: number, to: number): Promise<void> {
      let next = from;
      const worker = async () => {
        while (next < to && exited === undefined) {
          const index = indices[next++]!;
          const c = all[index]!;
          const answer = await send(port, c, tokens);
          for (const r of answer.responses) statuses.set(String(r.status), (statuses.get(String(r.status)) ?? 0) + 1);
          if (answer.responses.length === 0) statuses.set('no answer', (statuses.get('no answer') ?? 0) + 1);
          const broken = violations(c, answer);
          if (broken.length > 0) failures.push({ index, broken, c });
          done += 1;
          if (done % 1_000 === 0) log(`  ${done}/${indices.length} cases, ${failures.length} failing`);
        }
      };
      await Promise.all(Array.from({ length: opts.concurrency }, worker));
    }

    const start = await heapOf(child);
    const warmUp = Math.min(500, Math.floor(indices.length / 10));
    const t0 = Date.now();
    await run(0, warmUp);
    const before = await heapOf(child);
    await run(warmUp, indices.length);
    const seconds = (Date.now() - t0) / 1000;
    const after = exited === undefined ? await heapOf(child) : undefined;

    // The log goes with the temporary folder: its error lines are printed below.
    const errors = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => /"level":(50|60)/.test(l));
    const errorLines = errors.length;
    log('');
    log(`cases: ${done} in ${seconds.toFixed(1)} s (seed ${opts.seed}, now ${opts.now})`);
    log(`answers by status: ${[...statuses].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}: ${n}`).join(', ')}`);
    log(`server heap after GC: ${mb(start.heapUsedBytes)} at start, ${mb(before.heapUsedBytes)} after ${warmUp} warm-up cases (before), ${after ? mb(after.heapUsedBytes) : 'n/a'} after all (after)${after ? `; after - before ${mb(after.heapUsedBytes - before.heapUsedBytes)}` : ''}`);
    if (after) {
      log(`server memory outside the heap (buffers): ${mb(before.externalBytes)} before, ${mb(after.externalBytes)} after; RSS ${mb(before.rssBytes)} before, ${mb(after.rssBytes)} after`);
      log(`server event-loop delay during the run: max ${after.loopDelayMaxMs.toFixed(0)} ms, p99 ${after.loopDelayP99Ms.toFixed(0)} ms`);
    }
    log(`server process: ${exited === undefined && child.pid === pid ? `pid ${pid} still running, never restarted` : `DIED (${exited})`}; error-level log lines: ${errorLines}`);
    for (const line of errors.slice(0, MAX_PRINTED_FAILURES)) log(`  server error: ${line.slice(0, 1_000)}`);
    for (const f of failures.slice(0, MAX_PRINTED_FAILURES)) log(`\nFAILED case ${f.index} (replay: npm run fuzz -- --seed ${opts.seed} --now ${opts.now} --cases ${opts.cases} --only ${f.index}):\n  ${f.broken.join('\n  ')}\n${describeCase(f.c)}`);
    if (failures.length > MAX_PRINTED_FAILURES) log(`... and ${failures.length - MAX_PRINTED_FAILURES} more failing cases`);
    const ok = failures.length === 0 && exited === undefined && errorLines === 0;
    log(ok ? '\nfuzz: every invariant held' : `\nfuzz: FAILED (${failures.length} failing cases)`);
    return ok ? 0 : 1;
  } finally {
    await resources.release(log);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fuzz: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
