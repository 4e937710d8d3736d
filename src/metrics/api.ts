/**
 * The API process's registry: process defaults, its pool, and its parts cache, all read at each
 * scrape (the cache counts for itself and knows nothing of Prometheus). The request histogram is
 * added by createApp (src/metrics/requests.ts).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { PART_KINDS, type PartsCacheStats } from '../queries/parts-cache.ts';
import { createMetricsRegistry, watchPool, type PoolCounts } from './registry.ts';

export const PARTS_CACHE_METRICS = Object.freeze({
  hits: 'eventstats_parts_cache_hits_total',
  misses: 'eventstats_parts_cache_misses_total',
  evictions: 'eventstats_parts_cache_evictions_total',
  rows: 'eventstats_parts_cache_rows',
});

/** Reports a parts cache's lookups by kind (segment, window, tail), its evictions and its size. */
export function watchPartsCache(registry: Registry, cache: { stats(): PartsCacheStats }): void {
  const byKind = (name: string, help: string, of: (s: PartsCacheStats) => PartsCacheStats['hits']) =>
    new Counter({
      name,
      help,
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        const counts = of(cache.stats());
        this.reset();
        for (const kind of PART_KINDS) this.inc({ kind }, counts[kind]);
      },
    });
  byKind(PARTS_CACHE_METRICS.hits, 'Parts cache lookups that found the entry, by kind (segment, window, tail).', (s) => s.hits);
  byKind(PARTS_CACHE_METRICS.misses, 'Parts cache lookups that did not find the entry (it is read from the database), by kind.', (s) => s.misses);
  new Counter({
    name: PARTS_CACHE_METRICS.evictions,
    help: 'Parts cache entries dropped to stay within PARTS_CACHE_MAX_ROWS.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(cache.stats().evictions);
    },
  });
  new Gauge({
    name: PARTS_CACHE_METRICS.rows,
    help: 'Rows the parts cache holds, as counted against PARTS_CACHE_MAX_ROWS.',
    registers: [registry],
    collect() {
      this.set(cache.stats().rows);
    },
  });
}

/** A registry for an API process: defaults, the pool (labelled pool="api") and the parts cache. */
export function createApiMetrics(sources: { readonly pool: PoolCounts; readonly parts: { stats(): PartsCacheStats } }): Registry {
  const registry = createMetricsRegistry();
  watchPool(registry, 'api', () => sources.pool);
  watchPartsCache(registry, sources.parts);
  return registry;
}
