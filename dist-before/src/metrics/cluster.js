/**
 * Metrics of several API processes (WEB_CONCURRENCY > 1) as one: each process hands its registry to
 * prom-client's cluster support, and the primary asks every process for its metrics at each scrape
 * and sums them (counters, histograms and the pool gauges; prom-client's own rules for the process
 * defaults). A scrape of one API process on PORT would show only that process, so in this mode
 * /metrics is served by the primary on METRICS_PORT only.
 */
import { AggregatorRegistry } from 'prom-client';
/** In an API process under the cluster: answer the primary's requests with this registry. */
export function reportToPrimary(registry) {
    // The constructor installs the IPC listener; setRegistries picks the registry it answers with.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([registry]);
}
/** In the primary: something to scrape whose metrics() are every API process's, summed. */
export function clusterMetrics() {
    const aggregator = new AggregatorRegistry();
    return { metrics: () => aggregator.clusterMetrics(), contentType: aggregator.contentType };
}
//# sourceMappingURL=cluster.js.map