/**
 * Serving a registry: the GET /metrics handler (mounted on the API's app, or alone) and the small
 * server of its own that METRICS_PORT and WORKER_METRICS_PORT start. start() and stop() mirror.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { errorBody } from './envelope.ts';
import { createHttpServer, type HttpTimeouts } from './http-server.ts';

export const METRICS_PATH = '/metrics';

/** A registry, or the cluster primary's view of its API processes' registries (src/metrics/cluster.ts). */
export type Scrapable = Pick<Registry, 'metrics' | 'contentType'>;

/** Answers a scrape: the registry in the text format, under the registry's own content type. */
export function scrapeHandler(registry: Scrapable, log: Pick<Logger, 'error'>): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
        res.end(text);
      },
      (err: unknown) => {
        log.error({ err }, 'metrics: the scrape failed');
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
        res.end('the metrics could not be collected\n');
      },
    );
  };
}

export interface MetricsServer {
  /** The port it listens on (the one asked for, or the one the system chose for 0). */
  readonly port: number;
  stop(): Promise<void>;
}

export interface MetricsServerOptions {
  readonly port: number;
  readonly timeouts: HttpTimeouts;
  readonly log: Pick<Logger, 'error'>;
}

/** A server that answers GET /metrics and 404 to anything else, with the API's client deadlines. */
export async function startMetricsServer(registry: Scrapable, options: MetricsServerOptions): Promise<MetricsServer> {
  const scrape = scrapeHandler(registry, options.log);
  const server: Server = createHttpServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === METRICS_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      scrape(req, res);
      return;
    }
    const body = JSON.stringify(errorBody({ status: 404, type: 'route', message: `no route ${req.method} ${path}; this port serves GET ${METRICS_PATH} only` }));
    res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'X-Content-Type-Options': 'nosniff' });
    res.end(body);
  }, options.timeouts);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
