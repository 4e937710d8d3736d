/**
 * The cluster primary of `npm start` with WEB_CONCURRENCY > 1: it opens no database session and
 * serves no request; it forks the API processes, supervises them, and serves their summed metrics
 * on METRICS_PORT.
 */
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import { clusterMetrics } from '../metrics/cluster.ts';
import { startMetricsServer } from '../http/metrics-server.ts';
import { superviseApiProcesses, type Supervisor } from './cluster.ts';

/** Why this configuration cannot run as a cluster, or undefined. */
export function clusterConfigProblem(config: Config): string | undefined {
  if (config.metrics.enabled && config.metrics.port === undefined) {
    return (
      `WEB_CONCURRENCY=${config.webConcurrency} with METRICS=on needs a METRICS_PORT other than public: /metrics on PORT would show whichever ` +
      'API process took the connection; the primary serves all of them summed on METRICS_PORT (or set METRICS=off)'
    );
  }
  return undefined;
}

export interface Primary {
  readonly supervisor: Supervisor;
  /** Where the summed metrics are served, if they are. */
  readonly metricsUrl: string | undefined;
  stop(): Promise<void>;
}

export async function startPrimary(config: Config, log: Logger): Promise<Primary> {
  const processes = config.webConcurrency;
  log.info(
    { processes, poolMaxPerProcess: config.db.poolMax, sessionsAtMost: processes * config.db.poolMax },
    `starting ${processes} API processes; together they open up to ${processes} x DB_POOL_MAX = ${processes * config.db.poolMax} database sessions`,
  );
  const supervisor = superviseApiProcesses({ processes, log });
  await supervisor.start();
  let metricsServer: { port: number; stop(): Promise<void> } | undefined;
  if (config.metrics.enabled && config.metrics.port !== undefined) {
    const port = config.metrics.port;
    metricsServer = await startMetricsServer(clusterMetrics(), { port, timeouts: config.http, log }).catch(async (err: unknown) => {
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
