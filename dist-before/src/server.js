/**
 * Node entry: config -> database -> app.listen. With DATABASE_URL unset it runs the all-in-one
 * local mode (embedded PostgreSQL, demo data, and the refresh worker in this process, its metrics on
 * the API's /metrics; production runs `npm run worker` separately). With METRICS_PORT set, /metrics
 * gets a small server of its own. With WEB_CONCURRENCY > 1 (and a DATABASE_URL) this process only
 * forks and supervises that many API processes (src/process/), each running the rest of this file.
 * SIGTERM/SIGINT stop everything in reverse order.
 */
import cluster from 'node:cluster';
import { createApp } from "./app.js";
import { devKeysVerify, devTokenIssuer } from "./auth/dev-keys.js";
import { describeFailure } from "./cli/run.js";
import { ConfigError, tokenRuleWarnings } from "./core/config.js";
import { createHttpServer } from "./http/http-server.js";
import { pageAssets } from "./http/page-assets.js";
import { createLogger } from "./core/log.js";
import { limitHeapGrowth } from "./core/heap.js";
import { reportToPrimary } from "./metrics/cluster.js";
import { startMetricsServer } from "./http/metrics-server.js";
import { clusterConfigProblem, startPrimary } from "./process/primary.js";
import { createApiRuntime, loadApiConfig } from "./runtime.js";
import { startBanner } from "./start-banner.js";
const config = (() => {
    try {
        return loadApiConfig();
    }
    catch (err) {
        process.stderr.write(`eventstats: ${err instanceof ConfigError ? err.message : String(err)}\n`);
        process.exit(2);
    }
})();
limitHeapGrowth(config.heapGrowingPercent);
const log = createLogger(config.logLevel);
// Once per start (the cluster's primary, or the one process): token checks a deployment leaves off.
if (cluster.isPrimary)
    for (const warning of tokenRuleWarnings(config))
        log.warn(warning);
const stops = [];
let stopping;
// Once, however many signals arrive (Ctrl-C reaches a cluster's primary and its processes alike).
function stop() {
    stopping ??= (async () => {
        for (const s of stops.reverse())
            await s().catch((err) => log.error({ err }, 'shutdown step failed'));
        stops.length = 0;
    })();
    return stopping;
}
function listen(server, port) {
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, () => resolve());
    });
}
// Before anything starts: a signal during start-up (once the API answers, before its metrics server
// does) stops what has started rather than killing the process with it.
for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => {
        log.info({ signal }, 'shutting down');
        void stop().then(() => process.exit(0));
    });
}
// The all-in-one mode stays one process: its embedded PostgreSQL and worker belong to one process.
const primary = cluster.isPrimary && config.databaseUrl !== undefined && config.webConcurrency > 1;
const clusterProblem = primary ? clusterConfigProblem(config) : undefined;
if (clusterProblem) {
    process.stderr.write(`eventstats: invalid configuration: ${clusterProblem}\n`);
    process.exit(2);
}
if (!config.databaseUrl && config.webConcurrency > 1)
    log.warn({ webConcurrency: config.webConcurrency }, 'the all-in-one mode runs one process; WEB_CONCURRENCY applies with a DATABASE_URL');
try {
    if (primary) {
        const p = await startPrimary(config, log);
        stops.push(() => p.stop());
        const base = `http://localhost:${config.port}`;
        log.info({ url: base, metrics: p.metricsUrl ?? 'off', processes: p.supervisor.pids().length, mode: 'external database' }, 'EventStats listening');
        process.stdout.write(startBanner({ base, devTokenButton: false, devTokenCli: devKeysVerify(config) }));
    }
    else {
        await serve();
    }
}
catch (err) {
    process.stderr.write(`eventstats: cannot start: ${describeFailure(err)}\n`);
    await stop();
    process.exit(1);
}
/** One API process: alone, or one of the cluster's. */
async function serve() {
    let local;
    let devTokens;
    if (!config.databaseUrl) {
        // The all-in-one mode's parts (embedded PostgreSQL, migrations, pg-boss) are loaded only in that
        // mode: an API process against DATABASE_URL never needs them (6 MB less RSS at start, measured).
        const { startLocalDatabase } = await import("./local.js");
        local = await startLocalDatabase(config, log);
        stops.push(() => local.stop());
    }
    const url = config.databaseUrl ?? local.url;
    const runtime = await createApiRuntime(config, url, log);
    stops.push(() => runtime.close());
    if (cluster.isWorker && runtime.metrics)
        reportToPrimary(runtime.metrics);
    // Fail fast on an unreachable DATABASE_URL rather than serving 503s from the first request on.
    await runtime.pool.query('SELECT 1');
    if (local) {
        const { createWorker } = await import("./refresh/worker.js");
        // One process, one registry: the worker's metrics are served with the API's.
        const worker = createWorker({ databaseUrl: url, refresh: config.refresh, log, metrics: runtime.metrics });
        // Pushed before the HTTP server's stop, so shutdown runs HTTP -> worker -> pool -> embedded db.
        stops.push(() => worker.stop());
        await worker.start();
        // POST /dev/token, for the dashboard's button: this mode only, and never in production.
        devTokens = await devTokenIssuer(config);
    }
    const server = createHttpServer(createApp({ ...runtime.deps, pages: pageAssets(), devTokens }), config.http);
    await listen(server, config.port);
    // PORT=0 takes a port the OS chooses: the one bound is what the log line and the banner name (tests
    // start servers that way, rather than guessing a free port another process may take first).
    const port = server.address().port;
    stops.push(() => new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
    }));
    if (cluster.isWorker) {
        log.info({ pid: process.pid, port }, 'API process listening');
        return;
    }
    let metricsUrl;
    if (runtime.metrics && config.metrics.port !== undefined) {
        const metricsPort = config.metrics.port;
        const metrics = await startMetricsServer(runtime.metrics, { port: metricsPort, timeouts: config.http, log }).catch((err) => {
            throw new Error(`cannot serve metrics on METRICS_PORT ${metricsPort}: ${err instanceof Error ? err.message : String(err)}`);
        });
        stops.push(() => metrics.stop());
        metricsUrl = `http://localhost:${metrics.port}/metrics`;
    }
    else if (runtime.metrics) {
        metricsUrl = `http://localhost:${port}/metrics`;
    }
    const base = `http://localhost:${port}`;
    log.info({ url: base, metrics: metricsUrl ?? 'off', mode: local ? 'all-in-one (embedded PostgreSQL)' : 'external database' }, 'EventStats listening');
    process.stdout.write(startBanner({ base, devTokenButton: devTokens !== undefined, devTokenSecret: devTokens?.secret, devTokenCli: devKeysVerify(config) }));
}
//# sourceMappingURL=server.js.map