/**
 * A Prometheus registry per process (never prom-client's global one: tests build several apps and
 * workers in one process), with Node's default process metrics, and the helpers the metric modules
 * share: get-or-create, connection pools observed on scrape, and scrape-time reads that are shared
 * by the gauges they fill and bounded in time.
 */
import { LRUCache } from 'lru-cache';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { within } from "../core/time-limit.js";
export const POOL_METRICS = Object.freeze({
    connections: 'eventstats_db_pool_connections',
    idle: 'eventstats_db_pool_idle_connections',
    waiting: 'eventstats_db_pool_waiting_requests',
    max: 'eventstats_db_pool_max_connections',
});
/** A new registry with process_* and nodejs_* default metrics. */
export function createMetricsRegistry() {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    return registry;
}
/**
 * The metric named `name` in `registry`, created by `make` the first time. A second app or worker
 * built on the same registry then shares the metric instead of failing on a duplicate name.
 */
export function metricOf(registry, name, make) {
    return registry.getSingleMetric(name) ?? make();
}
// The pools each registry reports, by the value of their `pool` label; read at every scrape.
const pools = new WeakMap();
/**
 * Reports a pool's connections (total, idle, its bound) and the requests waiting for one, labelled
 * `pool`, at every scrape. `pool` returns undefined while there is none (a stopped worker).
 */
export function watchPool(registry, name, pool) {
    let watched = pools.get(registry);
    if (!watched) {
        const sources = (watched = new Map());
        pools.set(registry, sources);
        const gauge = (metric, help, value) => new Gauge({
            name: metric,
            help,
            labelNames: ['pool'],
            registers: [registry],
            collect() {
                this.reset();
                for (const [label, get] of sources) {
                    const p = get();
                    const v = p && value(p);
                    if (v !== undefined)
                        this.set({ pool: label }, v);
                }
            },
        });
        gauge(POOL_METRICS.connections, 'Open connections of a database pool (idle and in use).', (p) => p.totalCount);
        gauge(POOL_METRICS.idle, 'Idle connections of a database pool.', (p) => p.idleCount);
        gauge(POOL_METRICS.waiting, 'Queries waiting for a connection of a database pool (it is at its bound).', (p) => p.waitingCount);
        gauge(POOL_METRICS.max, 'The bound on connections of a database pool.', (p) => p.options.max);
    }
    watched.set(name, pool);
}
/**
 * A read for the gauges of one scrape: the gauges that `read` fills share one call (prom-client
 * collects every metric of a scrape at once), and a read slower than `limitMs` fails rather than
 * holding the scrape (Prometheus gives up after its scrape_timeout, 10 s by default).
 */
export function scrapeRead(read, limitMs, reuseMs = 1_000) {
    // One entry: fetch() shares the read in flight and keeps its value for reuseMs (boxed: a read may
    // answer undefined, which lru-cache does not store). A failed read is not kept; the gauges of one
    // scrape collect at once, so they share it while it is in flight.
    const last = new LRUCache({ max: 1, ttl: reuseMs, fetchMethod: async () => ({ value: await within(read(), limitMs) }) });
    return async () => (await last.fetch('read')).value;
}
//# sourceMappingURL=registry.js.map