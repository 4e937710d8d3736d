/**
 * Reads from a streaming replica vs the primary (npm run bench:replicas -- --jobs N).
 *
 * One embedded primary of its own (bench/dataset.ts seeds and refreshes it) and two real standbys
 * (test/helpers/replica.ts): one with hot_standby_feedback off and max_standby_streaming_delay 0
 * (replay cancels conflicting reads at once), one with hot_standby_feedback on. Three API apps run
 * in this process: on the primary, and reading from each standby (DATABASE_READ_URL).
 *  1. p50 and req/s at 16 connections, primary and replica interleaved round by round;
 *  2. p99 (and the non-2xx answers) of replica reads while the primary runs a forced refresh of
 *     every view, per standby (conflicts provoked: feedback off; avoided: feedback on).
 * Prints one JSON document.
 */
import { once } from 'node:events';
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createApp } from '../src/app.ts';
import { ensureDevKeyPair, signToken } from '../src/auth/dev-keys.ts';
import { loadConfig } from '../src/core/config.ts';
import { createLogger } from '../src/core/log.ts';
import { registeredViews } from '../src/declarations/index.ts';
import { refreshViews } from '../src/refresh/refresh-view.ts';
import { createApiRuntime, type ApiRuntime } from '../src/runtime.ts';
import { ACCESS } from '../test/helpers/http.ts';
import { startPrimary, startReplica, type Replica } from '../test/helpers/replica.ts';
import { prepareDataset } from './dataset.ts';
import { measureLoad, type LoadTarget } from './load.ts';
import { round } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
  },
});
const JOBS = Number(args.jobs);
const DURATION_S = Number(args.duration);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const log = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-bench-replicas-'));
  await chmod(dir, 0o755);
  const primary = await startPrimary();
  const replicas: Replica[] = [];
  const runtimes: ApiRuntime[] = [];
  const servers: http.Server[] = [];
  try {
    const dataset = await prepareDataset(primary.url, JOBS, 7, log);
    replicas.push(await startReplica(primary, { hotStandbyFeedback: false, maxStandbyStreamingDelayMs: 0 }));
    replicas.push(await startReplica(primary, { hotStandbyFeedback: true }));
    const keys = await ensureDevKeyPair(dir);
    const accessFile = path.join(dir, 'access.json');
    await writeFile(accessFile, JSON.stringify(ACCESS));
    const authorization = `Bearer ${signToken(keys.privateKeyPem, 'alice', { ttlSeconds: 6 * 3600 })}`;
    const logger = createLogger('silent');
    const app = async (readUrl?: string): Promise<string> => {
      const env = { DATABASE_URL: primary.url, DATABASE_READ_URL: readUrl, TOKEN_PUBLIC_KEYS_URL: keys.publicKeysFile, ACCESS_CONFIG: accessFile, METRICS: 'off', LOG_LEVEL: 'silent', ADMISSION_USER_MAX: '1000', ADMISSION_GLOBAL_MAX: '1000' };
      const runtime = await createApiRuntime(loadConfig(env), primary.url, logger);
      runtimes.push(runtime);
      const server = http.createServer(createApp(runtime.deps));
      servers.push(server);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    };
    const bases = { primary: await app(), replicaConflicts: await app(replicas[0]!.url), replicaFeedback: await app(replicas[1]!.url) };
    const target = (base: string): LoadTarget => ({
      url: `${base}/stats/public.cps.za.runs/query/failed_jobs`,
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ timestamp_start: dataset.end - 7 * 86_400_000, timestamp_end: dataset.end, group_by: ['tenant_id'] }),
    });

    // 1. Side by side, interleaved: each round measures the primary, then the replica.
    const sides = { primary: [] as { p50: number; rps: number }[], replica: [] as { p50: number; rps: number }[] };
    for (let i = 0; i < ROUNDS; i++) {
      for (const [side, base] of [['primary', bases.primary], ['replica', bases.replicaFeedback]] as const) {
        const r = await measureLoad(target(base), CONNECTIONS, i === 0 ? 2 : 0, DURATION_S);
        sides[side].push({ p50: r.latencyMs.p50, rps: r.requestsPerSecond });
        log(`round ${i} ${side}: p50 ${r.latencyMs.p50} ms, ${r.requestsPerSecond} req/s, non-2xx ${r.non2xx}`);
      }
    }
    const summary = (xs: { p50: number; rps: number }[]) => ({ p50Ms: round(median(xs.map((x) => x.p50)), 3), requestsPerSecond: round(median(xs.map((x) => x.rps)), 1) });

    // 2. Replica reads while the primary refreshes every view by force.
    const pool = new pg.Pool({ connectionString: primary.url, max: 8 });
    const duringRefresh = async (base: string, replica: Replica) => {
      await replica.waitForReplay();
      const load = measureLoad(target(base), CONNECTIONS, 0, DURATION_S);
      const t0 = performance.now();
      let refreshes = 0;
      // Refresh again and again for the load's whole duration.
      while (performance.now() - t0 < DURATION_S * 1000) {
        await refreshViews(pool, registeredViews(), { statementTimeoutMs: 600_000, lockTimeoutMs: 10_000, force: true });
        refreshes++;
      }
      const r = await load;
      return { refreshes, p50Ms: r.latencyMs.p50, p99Ms: r.latencyMs.p99, requestsPerSecond: r.requestsPerSecond, non2xx: r.non2xx, errors: r.errors };
    };
    const conflicts = await duringRefresh(bases.replicaConflicts, replicas[0]!);
    const feedback = await duringRefresh(bases.replicaFeedback, replicas[1]!);
    const standby = new pg.Pool({ connectionString: replicas[0]!.url, max: 1 });
    const cancelled = Number((await standby.query('SELECT sum(confl_snapshot + confl_lock + confl_bufferpin)::int AS n FROM pg_stat_database_conflicts')).rows[0].n);
    await standby.end();
    await pool.end();
    process.stdout.write(
      `${JSON.stringify(
        {
          jobs: JOBS,
          connections: CONNECTIONS,
          durationS: DURATION_S,
          rounds: ROUNDS,
          sideBySide: { primary: summary(sides.primary), replica: summary(sides.replica), rounds: sides },
          duringForcedRefresh: {
            hotStandbyFeedbackOff: { ...conflicts, standbyCancelledStatements: cancelled },
            hotStandbyFeedbackOn: feedback,
          },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    await Promise.all(runtimes.map((r) => r.close().catch(() => {})));
    for (const r of replicas) await r.stop().catch((err: unknown) => log(String(err)));
    await primary.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
