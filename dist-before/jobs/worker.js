/**
 * npm run worker: the scheduled refresh worker, a long-running process beside the API. It only
 * wires config -> metrics server, worker.start() and SIGTERM -> worker.stop(), metrics server stop;
 * src/refresh/worker.ts holds the logic. Its /metrics listens on WORKER_METRICS_PORT unless METRICS=off.
 * Exit codes: 0 after a clean stop, 2 for bad configuration, 1 when it cannot start or stop.
 * Under a supervisor, run `tsx jobs/worker.ts` itself (tsx passes SIGTERM on to node): npm 11's
 * `npm run` and `npx` exit on SIGTERM without passing it on, which would leave the worker running.
 */
import { describeFailure } from "../src/cli/run.js";
import { ConfigError, loadConfig } from "../src/core/config.js";
import { createLogger } from "../src/core/log.js";
import { createMetricsRegistry } from "../src/metrics/registry.js";
import { startMetricsServer } from "../src/http/metrics-server.js";
import { createWorker } from "../src/refresh/worker.js";
/** One line on stderr, never a stack: these are expected failures with a fix in the message. */
function exitWith(code, message) {
    process.stderr.write(`worker: ${message}\n`);
    process.exit(code);
}
const config = (() => {
    try {
        return loadConfig();
    }
    catch (err) {
        return exitWith(2, err instanceof ConfigError ? err.message : String(err));
    }
})();
if (!config.databaseUrl)
    exitWith(2, 'DATABASE_URL is not set (`npm start` without it runs the worker inside the all-in-one server)');
const log = createLogger(config.logLevel, 'eventstats-worker');
const registry = config.metrics.enabled ? createMetricsRegistry() : undefined;
const worker = createWorker({ databaseUrl: config.databaseUrl, refresh: config.refresh, log, metrics: registry });
let metricsServer;
if (registry) {
    // Before the worker connects: a port already taken is a setup mistake, reported before any work starts.
    try {
        metricsServer = await startMetricsServer(registry, { port: config.metrics.workerPort, timeouts: config.http, log });
    }
    catch (err) {
        exitWith(1, `cannot serve metrics on WORKER_METRICS_PORT ${config.metrics.workerPort}: ${err instanceof Error ? err.message : String(err)} (set another port, or METRICS=off)`);
    }
    log.info({ port: metricsServer.port, url: `http://localhost:${metricsServer.port}/metrics` }, 'worker metrics listening');
}
try {
    await worker.start();
}
catch (err) {
    // A bad REFRESH_SCHEDULES surfaces here, once the registry is known.
    if (err instanceof ConfigError)
        exitWith(2, err.message);
    exitWith(1, `cannot start: ${describeFailure(err)}`);
}
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT']) {
    // `on`, not `once`: supervisors and npx may deliver the signal twice, and the default action of
    // a second one would kill the worker while it lets a refresh finish.
    process.on(signal, () => {
        if (stopping)
            return;
        stopping = true;
        log.info({ signal }, 'stopping: no new jobs, letting a running refresh finish');
        worker.stop().then(async () => {
            await metricsServer?.stop();
            process.exit(0);
        }, (err) => exitWith(1, `did not stop cleanly: ${describeFailure(err)}`));
    });
}
//# sourceMappingURL=worker.js.map