import { clusterMetrics } from "../metrics/cluster.js";
import { startMetricsServer } from "../http/metrics-server.js";
import { superviseApiProcesses } from "./cluster.js";
/** Why this configuration cannot run as a cluster, or undefined. */
export function clusterConfigProblem(config) {
    if (config.metrics.enabled && config.metrics.port === undefined) {
        return (`WEB_CONCURRENCY=${config.webConcurrency} with METRICS=on needs a METRICS_PORT other than public: /metrics on PORT would show whichever ` +
            'API process took the connection; the primary serves all of them summed on METRICS_PORT (or set METRICS=off)');
    }
    return undefined;
}
export async function startPrimary(config, log) {
    const processes = config.webConcurrency;
    log.info({ processes, poolMaxPerProcess: config.db.poolMax, sessionsAtMost: processes * config.db.poolMax }, `starting ${processes} API processes; together they open up to ${processes} x DB_POOL_MAX = ${processes * config.db.poolMax} database sessions`);
    const supervisor = superviseApiProcesses({ processes, log });
    await supervisor.start();
    let metricsServer;
    if (config.metrics.enabled && config.metrics.port !== undefined) {
        const port = config.metrics.port;
        metricsServer = await startMetricsServer(clusterMetrics(), { port, timeouts: config.http, log }).catch(async (err) => {
            await supervisor.stop();
            throw new Error(`cannot serve metrics on METRICS_PORT ${port}: ${err instanceof Error ? err.message : String(err)}`);
        });
    }
    return {
        supervisor,
        metricsUrl: metricsServer && `http://localhost:${metricsServer.port}/metrics`,
        async stop() {
            // The API processes first: the metrics server answers scrapes while they drain.
            await supervisor.stop();
            await metricsServer?.stop();
        },
    };
}
//# sourceMappingURL=primary.js.map