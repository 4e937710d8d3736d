/**
 * The API process's registry: process defaults, its pool, and its parts cache, all read at each
 * scrape (the cache counts for itself and knows nothing of Prometheus). The request histogram is
 * added by createApp (src/metrics/requests.ts).
 */
import { Counter, Gauge } from 'prom-client';
import { PART_KINDS } from "../read/parts-cache.js";
import { createMetricsRegistry, watchPool } from "./registry.js";
export const PARTS_CACHE_METRICS = Object.freeze({
    hits: 'eventstats_parts_cache_hits_total',
    misses: 'eventstats_parts_cache_misses_total',
    evictions: 'eventstats_parts_cache_evictions_total',
    bytes: 'eventstats_parts_cache_bytes',
    ownedBytes: 'eventstats_parts_cache_user_bytes',
    maxBytes: 'eventstats_parts_cache_max_bytes',
    verifiedTokensBytes: 'eventstats_verified_tokens_bytes',
});
/** A gauge whose value is read at each scrape. */
function gaugeOf(registry, name, help, read) {
    new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
            this.set(read());
        },
    });
}
/** Reports a parts cache's lookups by kind (segment, window, tail, answer, edge), its evictions and its size. */
export function watchPartsCache(registry, cache) {
    const byKind = (name, help, of) => new Counter({
        name,
        help,
        labelNames: ['kind'],
        registers: [registry],
        collect() {
            const counts = of(cache.stats());
            this.reset();
            for (const kind of PART_KINDS)
                this.inc({ kind }, counts[kind]);
        },
    });
    byKind(PARTS_CACHE_METRICS.hits, 'Parts cache lookups that found the entry, by kind (segment, window, tail, answer, edge).', (s) => s.hits);
    byKind(PARTS_CACHE_METRICS.misses, 'Parts cache lookups that did not find the entry (it is read from the database), by kind.', (s) => s.misses);
    new Counter({
        name: PARTS_CACHE_METRICS.evictions,
        help: 'Parts cache entries dropped to stay within PARTS_CACHE_MAX_BYTES, or a user within PARTS_CACHE_USER_MAX_BYTES.',
        registers: [registry],
        collect() {
            this.reset();
            this.inc(cache.stats().evictions);
        },
    });
    gaugeOf(registry, PARTS_CACHE_METRICS.bytes, 'Bytes the parts cache holds (keys included), as counted against PARTS_CACHE_MAX_BYTES.', () => cache.stats().bytes);
    gaugeOf(registry, PARTS_CACHE_METRICS.ownedBytes, "Of those, bytes held in users' shares (filtered or empty results; each within PARTS_CACHE_USER_MAX_BYTES).", () => cache.stats().ownedBytes);
    gaugeOf(registry, PARTS_CACHE_METRICS.maxBytes, 'PARTS_CACHE_MAX_BYTES: the bound of eventstats_parts_cache_bytes.', () => cache.stats().maxBytes);
}
/** A registry for an API process: defaults, the pool (labelled pool="api"), the parts cache and the verified-token cache. */
export function createApiMetrics(sources) {
    const registry = createMetricsRegistry();
    watchPool(registry, 'api', () => sources.pool);
    watchPartsCache(registry, sources.parts);
    const tokens = sources.verifiedTokens;
    if (tokens)
        gaugeOf(registry, PARTS_CACHE_METRICS.verifiedTokensBytes, 'Bytes the cache of verified tokens holds, as counted against VERIFIED_TOKENS_MAX_BYTES.', () => tokens.bytes);
    if (sources.admission)
        watchAdmission(registry, sources.admission);
    if (sources.inFlight)
        watchInFlight(registry, sources.inFlight);
    return registry;
}
export const IN_FLIGHT_METRICS = Object.freeze({
    requests: 'eventstats_inflight_requests',
    limit: 'eventstats_inflight_limit',
    queued: 'eventstats_inflight_queued_total',
    rejected: 'eventstats_inflight_rejected_total',
});
/** Users' requests under way and waiting (INFLIGHT_USER_MAX, INFLIGHT_USER_QUEUE), those that waited, and those refused. */
export function watchInFlight(registry, inFlight) {
    new Gauge({
        name: IN_FLIGHT_METRICS.requests,
        help: 'Authenticated requests in this process, all users together: under way (state active), or waiting for a place under INFLIGHT_USER_MAX (state waiting).',
        labelNames: ['state'],
        registers: [registry],
        collect() {
            const { active, waiting } = inFlight.stats();
            this.set({ state: 'active' }, active);
            this.set({ state: 'waiting' }, waiting);
        },
    });
    new Gauge({
        name: IN_FLIGHT_METRICS.limit,
        help: "The per-user bounds: INFLIGHT_USER_MAX (scope active) and INFLIGHT_USER_QUEUE (scope waiting).",
        labelNames: ['scope'],
        registers: [registry],
        collect() {
            const { limits } = inFlight.stats();
            this.set({ scope: 'active' }, limits.perUser);
            this.set({ scope: 'waiting' }, limits.queuePerUser);
        },
    });
    new Counter({
        name: IN_FLIGHT_METRICS.queued,
        help: "Requests that waited for a place among their user's requests under way before going on.",
        registers: [registry],
        collect() {
            this.reset();
            this.inc(inFlight.stats().queued);
        },
    });
    new Counter({
        name: IN_FLIGHT_METRICS.rejected,
        help: "Requests refused with 429 because their user's queue (INFLIGHT_USER_QUEUE) was full.",
        registers: [registry],
        collect() {
            this.reset();
            this.inc(inFlight.stats().rejected);
        },
    });
}
export const ADMISSION_METRICS = Object.freeze({
    active: 'eventstats_admission_active',
    admitted: 'eventstats_admission_admitted_total',
    rejected: 'eventstats_admission_rejected_total',
    limit: 'eventstats_admission_limit',
});
/** Reads of the base tables under way, admitted and refused (by the limit hit), and the limits. */
export function watchAdmission(registry, admission) {
    gaugeOf(registry, ADMISSION_METRICS.active, 'Statements reading the base tables under way in this process (at most ADMISSION_GLOBAL_MAX).', () => admission.stats().active);
    new Counter({
        name: ADMISSION_METRICS.admitted,
        help: 'Requests admitted to read the base tables.',
        registers: [registry],
        collect() {
            this.reset();
            this.inc(admission.stats().admitted);
        },
    });
    new Counter({
        name: ADMISSION_METRICS.rejected,
        help: 'Requests refused with 429 before reading the base tables, by the limit they hit (user: ADMISSION_USER_MAX, global: ADMISSION_GLOBAL_MAX, budget: ADMISSION_USER_SHARE, load: ADMISSION_MAX_LOOP_LOAD).',
        labelNames: ['limit'],
        registers: [registry],
        collect() {
            const { rejected } = admission.stats();
            this.reset();
            this.inc({ limit: 'user' }, rejected.user);
            this.inc({ limit: 'global' }, rejected.global);
            this.inc({ limit: 'budget' }, rejected.budget);
            this.inc({ limit: 'load' }, rejected.load);
        },
    });
    new Gauge({
        name: ADMISSION_METRICS.limit,
        help: 'The admission limits: ADMISSION_USER_MAX (scope user) and ADMISSION_GLOBAL_MAX (scope global).',
        labelNames: ['scope'],
        registers: [registry],
        collect() {
            const { limits } = admission.stats();
            this.set({ scope: 'user' }, limits.userMax);
            this.set({ scope: 'global' }, limits.globalMax);
        },
    });
}
//# sourceMappingURL=api.js.map