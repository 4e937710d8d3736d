/**
 * `npm run chaos [-- --runs N --outage-seconds S --competing-minutes M --soak-minutes M --filter-requests N --admission-seconds S --stages a,b --out FILE]`:
 * the chaos stages at full length, against a PostgreSQL of their own (embedded, in a temporary
 * folder, seeded with N runs: 200,000 runs is about 1M jobs) and EventStats' real processes (an API
 * with DB_CONNECT_TIMEOUT_MS=1000 and a worker on the default schedule), all on 127.0.0.1.
 *   outage     PostgreSQL stopped for S s (10) under 8 connections, then every EventStats session terminated
 *   competing  three more workers, the CLI in a loop and a trigger a second for M minutes (3) while the gateway writes
 *   load       16 connections of reads alone, during a forced cycle and during a rebuild of every view
 *   soak       M minutes (10) of mixed reads by two users while the gateway writes: RSS and sessions
 *   filters    --filter-requests N (6,000) requests with 100 random 240-character filter values: RSS within the cache bound + 50 MB
 *   admission  a second user's covered reads alone, then beside the first user's 20 connections of base-table reads
 *              (--admission-polite: those wait out each 429's Retry-After; --admission-rate N: the second
 *              user sends N reads a second on a schedule, not 4 closed-loop connections); each --admission-env 'K=V K=V'
 *              is a variant with its own API (the defaults when none), run --admission-repeat times (1);
 *              --admission-burners N adds a variant whose first user is N CPU-spinning processes
 *              outside the API (what the second user's p99 is at best beside that much work);
 *              --admission-profile DIR writes each variant's API CPU profile there (node --cpu-prof)
 * Prints each stage's report as JSON and the invariants it broke; exits 1 if any was broken.
 * The suite runs a short form of outage and competing (test/integration/chaos); the SIGKILLed worker
 * is test/integration/refresh/worker-process.test.ts.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { freePort } from '../helpers/free-port.ts';
import { killAllServices, startService } from '../helpers/service-process.ts';
import { DEFAULT_ADMISSION, startChaosCluster } from './cluster.ts';
import { competingScenario } from './competing.ts';
import { outageScenario, type OutageReport } from './outage.ts';
import { admissionScenario, filtersScenario } from './abuse.ts';
import { refreshLoadScenario } from './refresh-load.ts';
import { soakScenario } from './soak.ts';

const STAGES = ['outage', 'competing', 'load', 'soak', 'filters', 'admission'] as const;
const CONNECT_TIMEOUT_MS = 1_000;
const VIEW_STATE_TTL_MS = 1_000;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '200000' },
    'outage-seconds': { type: 'string', default: '10' },
    'competing-minutes': { type: 'string', default: '3' },
    'soak-minutes': { type: 'string', default: '10' },
    'filter-requests': { type: 'string', default: '6000' },
    'admission-seconds': { type: 'string', default: '20' },
    'admission-polite': { type: 'boolean', default: false },
    'admission-rate': { type: 'string' },
    'admission-env': { type: 'string', multiple: true },
    'admission-repeat': { type: 'string', default: '1' },
    'admission-burners': { type: 'string' },
    'admission-profile': { type: 'string' },
    stages: { type: 'string', default: STAGES.join(',') },
    out: { type: 'string' },
  },
  strict: true,
});
const num = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got '${v}'`);
  return n;
};
const stages = values.stages.split(',').map((s) => s.trim());
for (const s of stages) if (!(STAGES as readonly string[]).includes(s)) throw new Error(`unknown stage '${s}' (${STAGES.join(', ')})`);

const log = (line: string) => process.stdout.write(`${line}\n`);
const broken: string[] = [];
const check = (stage: string, ok: boolean, rule: string) => {
  if (!ok) broken.push(`${stage}: ${rule}`);
};

function outageChecks(stage: string, r: OutageReport): void {
  check(stage, r.wrongAnswers.length === 0, 'every answer is a 200, or a 503 "database" with Retry-After');
  check(stage, r.recoveryMs !== null && r.recoveryMs <= 5_000, 'answers are back within 5 s');
  check(stage, r.answersAsBefore, 'answers after equal answers before');
  check(stage, r.healthAfter === 200, '/health is 200 again');
  check(stage, r.stray.length === 0, 'nothing on stderr, nothing unhandled');
  check(stage, r.apiAlive && r.workerAlive, 'the API and the worker keep running');
  check(stage, r.workerResumedMs !== null, 'every view has a successful cycle after recovery (worker schedule)');
  if (r.mode === 'stop') {
    check(stage, Object.keys(r.down.byStatus).join() === '503', 'only 503s while the database is down');
    check(stage, r.down.maxMs <= CONNECT_TIMEOUT_MS + 1_000, 'each 503 within DB_CONNECT_TIMEOUT_MS + 1 s');
    check(stage, r.healthDuring === 503, '/health is 503 while the database is down');
    check(stage, r.apiErrorLines <= Math.ceil(r.downSeconds) + 2, 'the outage is logged at error level at most about once a second');
  }
}

const report: Record<string, unknown> = { startedAt: new Date().toISOString(), node: process.version, options: values };
const t0 = Date.now();
log(`chaos: seeding ${values.runs} runs into an embedded PostgreSQL ...`);
const cluster = await startChaosCluster({ runs: num('runs', values.runs) });
try {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = startService('src/server.ts', {
    ...cluster.env,
    PORT: String(port),
    DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    VIEW_STATE_TTL_MS: String(VIEW_STATE_TTL_MS),
    // The soak scrapes the API's gauges on its own port.
    METRICS_PORT: 'public',
    // As `npm start` and the README's deploy line run the server.
    NODE_OPTIONS: '--max-semi-space-size=8',
  });
  const worker = startService('jobs/worker.ts', cluster.env);
  await Promise.all([api.waitForMessage('EventStats listening'), worker.waitForMessage('refresh worker started')]);
  log(`chaos: ready in ${Math.round((Date.now() - t0) / 1000)} s`);

  if (stages.includes('outage')) {
    const common = { cluster, api, base, worker, connections: 8, connectTimeoutMs: CONNECT_TIMEOUT_MS, viewStateTtlMs: VIEW_STATE_TTL_MS, resume: 'schedule' } as const;
    const stop = await outageScenario({ ...common, mode: 'stop', downMs: num('outage-seconds', values['outage-seconds']) * 1000 });
    outageChecks('outage (stop)', stop);
    log(JSON.stringify({ stage: 'outage (stop)', ...stop }, null, 1));
    const terminate = await outageScenario({ ...common, mode: 'terminate', downMs: 0 });
    outageChecks('outage (terminate)', terminate);
    log(JSON.stringify({ stage: 'outage (terminate)', ...terminate }, null, 1));
    report.outage = { stop, terminate };
  }
  if (stages.includes('competing')) {
    const r = await competingScenario({ cluster, workers: 3, durationMs: num('competing-minutes', values['competing-minutes']) * 60_000, triggerEveryMs: 1_000 });
    check('competing', r.overlaps.length === 0, 'no view refreshed by two sessions at once');
    check('competing', r.cliFailures === 0, 'every CLI refresh exits 0');
    check('competing', r.writes.failures === 0, 'every write commits');
    check('competing', Object.keys(r.jobs).every((s) => s === 'completed'), 'every refresh job completed (none stuck, none failed)');
    check('competing', r.inexact === undefined, 'every view equals the oracle after the last trigger');
    check('competing', r.stray.length === 0, 'nothing on stderr');
    log(JSON.stringify({ stage: 'competing', ...r }, null, 1));
    report.competing = r;
  }
  if (stages.includes('load')) {
    const phases = await refreshLoadScenario(cluster, base);
    for (const p of phases) {
      check('load', p.errors === 0, `0 errors (${p.phase})`);
      if (p.refreshExit !== undefined) check('load', p.refreshExit === 0, `the refresh succeeds (${p.phase})`);
    }
    log(JSON.stringify({ stage: 'load', phases }, null, 1));
    report.load = phases;
  }
  if (stages.includes('soak')) {
    const r = await soakScenario(cluster, api, base, num('soak-minutes', values['soak-minutes']));
    check('soak', Object.keys(r.byStatus).every((s) => s === '200'), '0 errors');
    check('soak', r.writes.failures === 0, 'every write commits');
    log(JSON.stringify({ stage: 'soak', ...r }, null, 1));
    report.soak = r;
  }
  // The abuse stages run against an API of their own with the default admission budget (the one
  // above has it opened wide for the stages that measure other things: test/chaos/cluster.ts), or
  // with a variant's settings (--admission-env).
  const startAbuseApi = async (variant: Record<string, string> = {}, profileDir?: string) => {
    const abusePort = await freePort();
    const abuseApi = startService('src/server.ts', {
      ...cluster.env,
      ...DEFAULT_ADMISSION,
      PORT: String(abusePort),
      METRICS_PORT: 'public',
      NODE_OPTIONS: `--max-semi-space-size=8${profileDir ? ` --cpu-prof --cpu-prof-dir=${profileDir}` : ''}`,
      // Last, so that a variant can set METRICS_PORT too (WEB_CONCURRENCY > 1 needs its own).
      ...variant,
    });
    await abuseApi.waitForMessage('EventStats listening');
    return { api: abuseApi, base: `http://127.0.0.1:${abusePort}` };
  };
  /** SIGTERM (tsx passes it on), so that a profile is written; the exit awaited. */
  const stopAbuseApi = async (a: { api: typeof api }) => {
    if (a.api.child.pid !== undefined) process.kill(-a.api.child.pid, 'SIGTERM');
    await a.api.exitCode();
  };
  if (stages.includes('filters')) {
    const abuse = await startAbuseApi();
    const r = await filtersScenario(cluster, abuse.api, abuse.base, num('filter-requests', values['filter-requests']));
    check('filters', Object.keys(r.byStatus).every((s) => s === '200'), 'every request answers 200');
    check('filters', r.rssMb.peak - r.rssMb.before <= r.cacheBoundMb + 50, 'RSS grows by no more than PARTS_CACHE_MAX_BYTES + 50 MB');
    check('filters', r.rssMb.afterMinute - r.rssMb.before <= r.cacheBoundMb + 50, 'RSS a minute later within PARTS_CACHE_MAX_BYTES + 50 MB of where it started');
    check('filters', r.cacheBytesMaxMb <= r.cacheBoundMb, "the cache's byte gauge stays within its bound");
    log(JSON.stringify({ stage: 'filters', ...r }, null, 1));
    report.filters = r;
    // The admission stage starts from a fresh API (as before, when it followed filters in one process, it measured an API filters had grown).
    await stopAbuseApi(abuse);
  }
  if (stages.includes('admission')) {
    const parseEnv = (v: string) => Object.fromEntries(v.split(/\s+/).filter(Boolean).map((kv) => kv.split('=', 2) as [string, string]));
    const variants: { name: string; env: Record<string, string>; burners: number }[] = (values['admission-env'] ?? ['']).map((v) => ({ name: v || 'defaults', env: parseEnv(v), burners: 0 }));
    const burners = values['admission-burners'] === undefined ? 0 : num('admission-burners', values['admission-burners']);
    if (burners > 0) variants.push({ name: `${burners} CPU burner(s) instead of alice`, env: {}, burners });
    const repeat = num('admission-repeat', values['admission-repeat']);
    const results: unknown[] = [];
    for (const v of variants) {
      const abuse = await startAbuseApi(v.env, values['admission-profile']);
      for (let run = 1; run <= repeat; run++) {
        const r = await admissionScenario(cluster, abuse.base, num('admission-seconds', values['admission-seconds']), 20, 4, values['admission-polite'], v.burners, values['admission-rate'] === undefined ? undefined : num('admission-rate', values['admission-rate']));
        const stage = `admission (${v.name}, run ${run})`;
        check(stage, r.coveredBeside.errors === 0, "the second user's covered reads: 0 errors beside the heavy load");
        check(stage, r.coveredBeside.p99 <= 2 * r.coveredAlone.p99, "the second user's p99 within 2x of theirs alone");
        check(stage, r.heavy.every429HasRetryAfter, 'every 429 carries Retry-After');
        log(JSON.stringify({ stage: 'admission', variant: v.name, run, ...r }, null, 1));
        results.push({ variant: v.name, env: v.env, run, ...r });
      }
      await stopAbuseApi(abuse);
    }
    report.admission = results.length === 1 ? results[0] : results;
  }
  check('processes', api.child.exitCode === null && worker.child.exitCode === null, 'the API and the worker ran to the end');
} finally {
  killAllServices();
  await cluster.close();
}
report.seconds = Math.round((Date.now() - t0) / 1000);
report.broken = broken;
if (values.out) await writeFile(values.out, `${JSON.stringify(report, null, 1)}\n`);
log(broken.length ? `chaos: ${broken.length} invariant(s) broken:\n  ${broken.join('\n  ')}` : `chaos: every invariant held (${report.seconds} s)`);
process.exit(broken.length ? 1 : 0);
