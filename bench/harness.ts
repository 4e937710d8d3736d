/**
 * The benchmark, stage by stage, for each dataset size. Everything it starts is registered in
 * `Resources` the moment it exists and released in `finally`, so a failure at any stage still ends
 * every child process and the embedded PostgreSQL.
 */
import os from 'node:os';
import pg from 'pg';
import { SUPPORTED_QUERIES } from '../src/declarations/index.ts';
import { apiArgs, createCredentials, startApi, type Credentials } from './api.ts';
import { benchCeiling } from './ceiling.ts';
import { benchCompiled, dashboardWindow, type CompiledResult, type LoadSettings } from './compiled.ts';
import { startServer, type BenchServer } from './database.ts';
import { ignoreIdleError, prepareDataset } from './dataset.ts';
import { benchLambda, ensureBuild, type BuildState } from './lambda.ts';
import { describeMachine } from './machine.ts';
import { measurePaired, PAIRED_ROUNDS, type PairedResult } from './paired.ts';
import type { BenchOptions } from './options.ts';
import { peakRssBytes, Resources } from './processes.ts';
import { renderComparison } from './markdown.ts';
import { writeResult } from './output.ts';
import { benchRaw, type CompiledGroup, type RawResult } from './raw.ts';
import { benchRealtime, type RealtimeResult } from './realtime.ts';
import { computeRatios, RAW_QUERY, sizeLabel, type SizeResult } from './report.ts';
import { round } from './stats.ts';
import { judgeTargets } from './targets.ts';
import { measureUnnamedBeside, type UnnamedSide } from './unnamed.ts';

export interface BenchRun {
  readonly results: readonly SizeResult[];
  readonly files: readonly { readonly json: string; readonly markdown: string }[];
  /** All sizes side by side, as Markdown. */
  readonly comparison: string;
}

const API_POOL_MAX = 16;

interface RunContext {
  readonly options: BenchOptions;
  readonly resources: Resources;
  readonly server: BenchServer;
  readonly credentials: Credentials;
  readonly build: BuildState & { reason?: string };
  readonly date: string;
  /** The smallest size's result, once measured: later sizes report their p50 against it. */
  readonly baseline: SizeResult | undefined;
  /** The smallest size's database, kept to the end of the run so later sizes can measure against it side by side. */
  readonly baselineUrl: string | undefined;
  /** Keep this size's database until the run ends (it is the baseline of later sizes). */
  readonly keepDatabase: boolean;
}

async function benchSize(jobs: number, ctx: RunContext): Promise<{ result: SizeResult; url: string }> {
  const { options, resources, credentials } = ctx;
  const log = options.log;
  const label = sizeLabel(jobs);
  const startedAt = new Date().toISOString();
  const loadAtStart = os.loadavg().map((n) => round(n, 2));
  const settings: LoadSettings = {
    durationS: options.durationS,
    warmupS: options.warmupS,
    connections: options.connections,
    flyRuns: options.flyRuns,
  };
  log(`== ${label} jobs`);
  const db = await ctx.server.createDatabase(label);
  try {
    const dataset = await prepareDataset(db.url, jobs, options.seed, log);
    const window = dashboardWindow(dataset.end);
    // Idle connections stay open across the load runs, so no timed statement pays for a new session.
    const pool = new pg.Pool({ connectionString: db.url, max: 1, idleTimeoutMillis: 0, application_name: 'eventstats-bench' });
    pool.on('error', ignoreIdleError);
    const closePool = resources.add('close the bench pool', () => pool.end());
    try {
      const machine = await describeMachine(pool, ctx.server.kind);

      log('  API: starting');
      const entry = ctx.build.dist === 'fresh' || ctx.build.dist === 'built' ? 'dist' : 'tsx';
      const api = await startApi(resources, db.url, credentials, entry);
      const compiled: CompiledResult[] = [];
      const answers = new Map<string, { answer: unknown; requestBody: string; path: string }>();
      let raw: RawResult;
      let peakRssAfterLoadBytes: number | null;
      let peakRssAtEndBytes: number | null;
      let paired: PairedResult | null = null;
      let unnamed: UnnamedSide[] | null = null;
      let realtime: RealtimeResult;
      try {
        for (const q of SUPPORTED_QUERIES) {
          log(`  compiled ${q.name}: load at 1 and ${options.connections} connections, statement, on the fly`);
          const { result, answer, requestBody } = await benchCompiled(q, {
            baseUrl: api.baseUrl,
            authorization: credentials.authorization,
            pool,
            now: dataset.end,
            settings,
          });
          compiled.push(result);
          answers.set(q.name, { answer, requestBody, path: result.path });
          log(
            `    p50 ${result.oneConnection.latencyMs.p50} ms, p99 ${result.oneConnection.latencyMs.p99} ms, ` +
              `${result.concurrent.requestsPerSecond} req/s; on the fly p50 ${result.onTheFlyMs.p50} ms; exact: ${result.exact}`,
          );
        }
        peakRssAfterLoadBytes = await peakRssBytes(api.child.pid);
        if (options.unnamedBeside) {
          log('  days: 7 beside an API with DB_PREPARED_MAX=0 (every statement unnamed), taking turns');
          const unnamedApi = await startApi(resources, db.url, credentials, entry, { DB_PREPARED_MAX: '0' });
          try {
            unnamed = await measureUnnamedBeside(api.baseUrl, unnamedApi.baseUrl, compiled, credentials.authorization, settings);
          } finally {
            await unnamedApi.child.stop();
          }
          for (const u of unnamed) {
            log(
              `    ${u.query}: named ${u.named.oneConnection.latencyMs.p50} ms, ${u.named.concurrent.requestsPerSecond} req/s; ` +
                `unnamed ${u.unnamed.oneConnection.latencyMs.p50} ms, ${u.unnamed.concurrent.requestsPerSecond} req/s (${u.ratio}x)`,
            );
          }
        }
        if (ctx.baseline && ctx.baselineUrl) {
          log(`  p50 side by side with ${ctx.baseline.label}: ${PAIRED_ROUNDS} alternating rounds at 1 connection per query`);
          const baseApi = await startApi(resources, ctx.baselineUrl, credentials, entry);
          try {
            paired = await measurePaired(
              { baseUrl: api.baseUrl, compiled },
              { label: ctx.baseline.label, baseUrl: baseApi.baseUrl, compiled: ctx.baseline.compiled },
              credentials.authorization,
              settings,
            );
          } finally {
            await baseApi.child.stop();
          }
          log(`    ${paired.queries.map((q) => `${q.query} ${q.ratio}×`).join(', ')}`);
        }
        log(`  raw rows: paging up to ${options.rawPages} pages`);
        const failedAnswer = answers.get(RAW_QUERY)?.answer as { data?: CompiledGroup[] } | undefined;
        raw = await benchRaw({
          baseUrl: api.baseUrl,
          authorization: credentials.authorization,
          pool,
          window,
          maxPages: options.rawPages,
          pageLimit: options.rawPageLimit,
          compiled: failedAnswer?.data ?? [],
        });
        // Last against this API: it writes rows (absorbed again at its end) that the stages above must not see.
        log('  real-time: p50 with nothing, one minute and ten minutes of writes unabsorbed, taking turns');
        realtime = await benchRealtime({ baseUrl: api.baseUrl, authorization: credentials.authorization, pool, now: dataset.end, settings, rounds: options.smoke ? 1 : 3, log });
        peakRssAtEndBytes = await peakRssBytes(api.child.pid);
      } catch (err) {
        // A dead or failing API explains most failures here: say what it last printed.
        const state = api.child.exited() ? 'exited' : 'still running';
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n(the API server ${state}; its last output:\n${api.child.output()})`, { cause: err });
      } finally {
        await api.child.stop();
      }

      log('  ceiling server');
      // The headline query's answer sets the ceiling's body size (and the raw stage compares against it).
      const refName = answers.has(RAW_QUERY) ? RAW_QUERY : compiled[0]!.query;
      const ref = answers.get(refName)!;
      const route = {
        query: refName,
        path: ref.path,
        json: ref.answer,
        requestBody: ref.requestBody,
        headers: { authorization: credentials.authorization, 'content-type': 'application/json' },
      };
      const ceiling = await benchCeiling(resources, route, settings);
      log('  one-statement ceiling server (the same route plus one SELECT 1 through pg)');
      const statementCeiling = await benchCeiling(resources, route, settings, db.url);

      log(`  Lambda cold start (dist: ${ctx.build.dist})`);
      const failedQuery = compiled.find((c) => c.query === RAW_QUERY) ?? compiled[0]!;
      const lambda = await benchLambda(resources, {
        build: ctx.build,
        databaseUrl: db.url,
        credentials,
        runs: options.lambdaRuns,
        query: { path: failedQuery.path, body: JSON.stringify(failedQuery.body) },
      });

      const slowest = compiled.reduce((a, b) => (b.oneConnection.latencyMs.p50 > a.oneConnection.latencyMs.p50 ? b : a));
      const slowestPlan = { query: slowest.query, text: slowest.planText };

      const baseline = ctx.baseline ?? { label, compiled };
      const partial = {
        label,
        date: ctx.date,
        startedAt,
        settings: {
          durationS: options.durationS,
          warmupS: options.warmupS,
          connections: options.connections,
          rawPages: options.rawPages,
          rawPageLimit: options.rawPageLimit,
          flyRuns: options.flyRuns,
          lambdaRuns: options.lambdaRuns,
          smoke: options.smoke,
        },
        machine,
        systemLoad: { start: loadAtStart, end: os.loadavg().map((n) => round(n, 2)) },
        dataset,
        window,
        api: { command: ['node', ...apiArgs(entry)].join(' '), poolMax: API_POOL_MAX, healthStatus: api.healthStatus, peakRssAfterLoadBytes, peakRssAtEndBytes },
        compiled,
        paired,
        ...(unnamed ? { unnamed } : {}),
        realtime,
        raw,
        ceiling,
        statementCeiling,
        lambda,
        ratios: computeRatios(label, compiled, raw, ceiling, baseline, statementCeiling),
      };
      return { result: { ...partial, targets: judgeTargets(partial), slowestPlan }, url: db.url };
    } finally {
      await closePool();
    }
  } finally {
    // A kept database is dropped when the run releases its resources.
    if (!ctx.keepDatabase) await db.drop();
  }
}

/**
 * Runs every size in options.jobs and writes bench/results/<date>-<size>.{json,md} after each, so a
 * failure at a large size keeps the smaller sizes' results. Releases everything it started.
 */
export async function runBench(options: BenchOptions, resources: Resources = new Resources()): Promise<BenchRun> {
  const log = options.log;
  const date = new Date().toISOString().slice(0, 10);
  try {
    const server = await startServer(options.databaseUrl, options.keep, resources, log);
    const credentials = await createCredentials(resources);
    const build = await ensureBuild(options.smoke, log);
    const results: SizeResult[] = [];
    const files: { json: string; markdown: string }[] = [];
    let baselineUrl: string | undefined;
    for (const [i, jobs] of options.jobs.entries()) {
      const keepDatabase = i === 0 && options.jobs.length > 1;
      const { result, url } = await benchSize(jobs, { options, resources, server, credentials, build, date, baseline: results[0], baselineUrl, keepDatabase });
      if (i === 0) baselineUrl = url;
      results.push(result);
      const written = await writeResult(options.outDir, result);
      files.push(written);
      log(`  wrote ${written.json} and ${written.markdown}`);
    }
    return { results, files, comparison: renderComparison(results) };
  } finally {
    await resources.release(log);
  }
}
