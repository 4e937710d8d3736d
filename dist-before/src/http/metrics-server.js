import { errorBody } from "./envelope.js";
import { createHttpServer } from "./http-server.js";
export const METRICS_PATH = '/metrics';
/** Answers a scrape: the registry in the text format, under the registry's own content type. */
export function scrapeHandler(registry, log) {
    return (_req, res) => {
        registry.metrics().then((text) => {
            res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
            res.end(text);
        }, (err) => {
            log.error({ err }, 'metrics: the scrape failed');
            res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
            res.end('the metrics could not be collected\n');
        });
    };
}
/** A server that answers GET /metrics and 404 to anything else, with the API's client deadlines. */
export async function startMetricsServer(registry, options) {
    const scrape = scrapeHandler(registry, options.log);
    const server = createHttpServer((req, res) => {
        const path = (req.url ?? '').split('?')[0];
        if (path === METRICS_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
            scrape(req, res);
            return;
        }
        const body = JSON.stringify(errorBody({ status: 404, type: 'route', message: `no route ${req.method} ${path}; this port serves GET ${METRICS_PATH} only` }));
        res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'X-Content-Type-Options': 'nosniff' });
        res.end(body);
    }, options.timeouts);
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, () => {
            server.off('error', reject);
            resolve();
        });
    });
    return {
        port: server.address().port,
        stop: () => new Promise((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
        }),
    };
}
//# sourceMappingURL=metrics-server.js.map