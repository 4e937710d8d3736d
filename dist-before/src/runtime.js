import { Admission } from "./core/admission.js";
import { InFlight } from "./core/in-flight.js";
import { AccessControl } from "./auth/acl.js";
import { KeyStore, resolveKeySource } from "./auth/keys.js";
import { VerifiedTokens } from "./auth/verified-tokens.js";
import { ConfigError, loadConfig } from "./core/config.js";
import { unknownQueryNames } from "./declarations/index.js";
import { createExecutor } from "./db/executor.js";
import { PartsCache } from "./read/parts-cache.js";
import { createPool } from "./db/pool.js";
import { SessionMode } from "./db/session-mode.js";
import { ReadTargets } from "./db/read-targets.js";
import { databaseCheck } from "./http/health.js";
import { replicasCheck } from "./http/replicas-health.js";
import { viewsCheck } from "./http/views-health.js";
import { createApiMetrics } from "./metrics/api.js";
/**
 * The API's read-only pool and its executor, in the DB_POOLER mode (src/db/session-mode.ts). `auto`
 * settles here, before anything else uses the pool (server.ts's first query is a bare pool.query);
 * a database that is down now leaves it to settle on the first request instead.
 */
/**
 * The API's configuration: the environment (over `defaults`), and the settings that name compiled
 * queries checked against the registry (configuration itself knows no query). Throws ConfigError.
 */
export function loadApiConfig(env, defaults = {}) {
    const config = loadConfig(env, defaults);
    const problem = unknownQueryNames('REALTIME_OFF', config.realtime.off);
    if (problem)
        throw new ConfigError(problem);
    return config;
}
export async function createApiDatabase(db, databaseUrl, log) {
    const pool = createPool({
        connectionString: databaseUrl,
        max: db.poolMax,
        statementTimeoutMs: db.statementTimeoutMs,
        connectTimeoutMs: db.connectTimeoutMs,
        readOnly: true,
        applicationName: 'eventstats-api',
        startupSettings: db.pooler !== 'transaction',
    }, log);
    const settings = { statementTimeoutMs: db.statementTimeoutMs, readOnly: true };
    const session = new SessionMode(pool, db.pooler, log, settings);
    if (db.pooler === 'auto')
        await session.settle().catch(() => { });
    let warned = false;
    const executor = createExecutor(pool, {
        retryAfterSeconds: db.retryAfterSeconds,
        session,
        settings,
        preparedMax: db.preparedMax,
        onRetry: (err) => {
            if (warned)
                return;
            warned = true;
            log.warn({ err }, 'a prepared statement was lost between server connections (a transaction-mode pooler?); retried unnamed. Set DB_POOLER=transaction');
        },
    });
    return { pool, executor, session };
}
export async function createApiRuntime(config, databaseUrl, log, options = {}) {
    const { pool, executor: primary } = await createApiDatabase(config.db, databaseUrl, log);
    const replicas = await Promise.all(config.replicas.urls.map((url) => createApiDatabase(config.db, url, log)));
    const replicaPools = replicas.map((r) => r.pool);
    // With DATABASE_READ_URL, reads go to the replicas (src/db/read-targets.ts).
    const targets = replicas.length
        ? new ReadTargets(primary, replicas.map((r, i) => ({ name: `replica ${i + 1}`, executor: r.executor })), { ...config.replicas, retryAfterSeconds: config.db.retryAfterSeconds })
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
//# sourceMappingURL=runtime.js.map