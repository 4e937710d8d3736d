/**
 * Building the API's collaborators from the configuration, shared by the server and the Lambda
 * handler so both serve the same app the same way.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AccessControl } from './auth/acl.ts';
import { KeyStore, resolveKeySource } from './auth/keys.ts';
import type { AppDeps } from './app.ts';
import type { Config } from './config.ts';
import { createExecutor } from './db/executor.ts';
import { PartsCache } from './queries/parts-cache.ts';
import { createPool } from './db/pool.ts';
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
}

export async function createApiRuntime(config: Config, databaseUrl: string, log: Logger, options: RuntimeOptions = {}): Promise<ApiRuntime> {
  const poolOn = (url: string) =>
    createPool(
      {
        connectionString: url,
        max: config.db.poolMax,
        statementTimeoutMs: config.db.statementTimeoutMs,
        connectTimeoutMs: config.db.connectTimeoutMs,
        readOnly: true,
        applicationName: 'eventstats-api',
      },
      log,
    );
  const pool = poolOn(databaseUrl);
  const replicaPools = config.replicas.urls.map(poolOn);
  const primary = createExecutor(pool, config.db.retryAfterSeconds);
  // With DATABASE_READ_URL, reads go to the replicas (src/db/read-targets.ts).
  const targets = replicaPools.length
    ? new ReadTargets(
        primary,
        replicaPools.map((p, i) => ({ name: `replica ${i + 1}`, executor: createExecutor(p, config.db.retryAfterSeconds) })),
        { ...config.replicas, retryAfterSeconds: config.db.retryAfterSeconds },
      )
    : undefined;
  const executor = targets ?? primary;
  const keys = new KeyStore({ source: await resolveKeySource(config), log });
  const acl = AccessControl.fromFile(config.accessConfigPath);
  const parts = new PartsCache(config.partsCache);
  const metrics = (options.metrics ?? config.metrics.enabled) ? createApiMetrics({ pool, parts }) : undefined;
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
