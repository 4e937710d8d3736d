/**
 * Building the API's collaborators from the configuration, shared by the server and the Lambda
 * handler so both serve the same app the same way.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Admission } from './core/admission.ts';
import { InFlight } from './core/in-flight.ts';
import { AccessControl } from './auth/acl.ts';
import { KeyStore, resolveKeySource } from './auth/keys.ts';
import { VerifiedTokens } from './auth/verified-tokens.ts';
import type { AppDeps } from './app.ts';
import { ConfigError, loadConfig, type Config } from './core/config.ts';
import { unknownQueryNames } from './declarations/index.ts';
import { createExecutor, type Executor } from './db/executor.ts';
import { PartsCache } from './read/parts-cache.ts';
import { createPool } from './db/pool.ts';
import { SessionMode } from './db/session-mode.ts';
import { ReadTargets } from './db/read-targets.ts';
import { databaseCheck } from './http/health.ts';
import { replicasCheck } from './http/replicas-health.ts';
import { viewsCheck } from './http/views-health.ts';
import { createApiMetrics } from './metrics/api.ts';

export interface ApiRuntime {
  readonly deps: AppDeps;
  /** The pool on DATABASE_URL (with read replicas: the fallback, and the stable-id probe). */
  readonly pool: pg.Pool;
  /** Ends every pool (the replicas' too). */
  close(): Promise<void>;
  /** The process's metrics registry (config METRICS); the all-in-one mode's worker reports into it too. */
  readonly metrics: Registry | undefined;
}

export interface RuntimeOptions {
  /** Keep metrics (default: config METRICS). The Lambda entry has none: nothing can scrape a Lambda container. */
  readonly metrics?: boolean;
  /** Bound one user's requests under way (default: config INFLIGHT_USER_MAX > 0). The Lambda entry has none: one request per instance. */
  readonly inFlight?: boolean;
}

/**
 * The API's read-only pool and its executor, in the DB_POOLER mode (src/db/session-mode.ts). `auto`
 * settles here, before anything else uses the pool (server.ts's first query is a bare pool.query);
 * a database that is down now leaves it to settle on the first request instead.
 */
/**
 * The API's configuration: the environment (over `defaults`), and the settings that name compiled
 * queries checked against the registry (configuration itself knows no query). Throws ConfigError.
 */
export function loadApiConfig(env?: Record<string, string | undefined>, defaults: Readonly<Record<string, string>> = {}): Config {
  const config = loadConfig(env, defaults);
  const problem = unknownQueryNames('REALTIME_OFF', config.realtime.off);
  if (problem) throw new ConfigError(problem);
  return config;
}

export async function createApiDatabase(db: Config['db'], databaseUrl: string, log: Logger): Promise<{ pool: pg.Pool; executor: Executor; session: SessionMode }> {
  const pool = createPool(
    {
      connectionString: databaseUrl,
      max: db.poolMax,
      statementTimeoutMs: db.statementTimeoutMs,
      connectTimeoutMs: db.connectTimeoutMs,
      readOnly: true,
      applicationName: 'eventstats-api',
      startupSettings: db.pooler !== 'transaction',
    },
    log,
  );
  const settings = { statementTimeoutMs: db.statementTimeoutMs, readOnly: true };
  const session = new SessionMode(pool, db.pooler, log, settings);
  if (db.pooler === 'auto') await session.settle().catch(() => {});
  let warned = false;
  const executor = createExecutor(pool, {
    retryAfterSeconds: db.retryAfterSeconds,
    session,
    settings,
    preparedMax: db.preparedMax,
    onRetry: (err) => {
      if (warned) return;
      warned = true;
      log.warn({ err }, 'a prepared statement was lost between server connections (a transaction-mode pooler?); retried unnamed. Set DB_POOLER=transaction');
    },
  });
  return { pool, executor, session };
}

export async function createApiRuntime(config: Config, databaseUrl: string, log: Logger, options: RuntimeOptions = {}): Promise<ApiRuntime> {
  const { pool, executor: primary } = await createApiDatabase(config.db, databaseUrl, log);
  const replicas = await Promise.all(config.replicas.urls.map((url) => createApiDatabase(config.db, url, log)));
  const replicaPools = replicas.map((r) => r.pool);
  // With DATABASE_READ_URL, reads go to the replicas (src/db/read-targets.ts).
  const targets = replicas.length
    ? new ReadTargets(
        primary,
        replicas.map((r, i) => ({ name: `replica ${i + 1}`, executor: r.executor })),
        { ...config.replicas, retryAfterSeconds: config.db.retryAfterSeconds },
      )
    : undefined;
  const executor = targets ?? primary;
  const keys = new KeyStore({ source: await resolveKeySource(config), log });
  const acl = AccessControl.fromFile(config.accessConfigPath);
  const parts = new PartsCache(config.partsCache);
  const verifiedTokens = new VerifiedTokens({ maxBytes: config.verifiedTokensMaxBytes });
  const admission = new Admission({ ...config.admission, retryAfterSeconds: config.db.retryAfterSeconds });
  const inFlight = (options.inFlight ?? true) && config.inFlight.perUser > 0 ? new InFlight(config.inFlight) : undefined;
  const metrics = (options.metrics ?? config.metrics.enabled) ? createApiMetrics({ pool, parts, verifiedTokens, admission, inFlight }) : undefined;
  return {
    pool,
    close: async () => {
      await Promise.all([pool, ...replicaPools].map((p) => p.end()));
    },
    metrics,
    deps: {
      executor,
      parts,
      // With METRICS_PORT set, /metrics is served by a server of its own (src/server.ts), not by the app.
      metrics: metrics && { registry: metrics, serve: config.metrics.port === undefined },
      realtime: (query) => config.realtime.enabled && !config.realtime.off.includes(query),
      refreshSchedules: config.refresh.schedules,
      keys,
      verifiedTokens,
      admission,
      inFlight,
      tokenRules: config.token,
      acl,
      log,
      retryAfterSeconds: config.db.retryAfterSeconds,
      health: {
        database: databaseCheck(executor, log),
        views: viewsCheck(executor, config, Date.now, log),
        ...(targets ? { replicas: replicasCheck(targets, log) } : {}),
      },
    },
  };
}
