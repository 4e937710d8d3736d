/**
 * How far V8 lets the API's heap grow past what the last full collection left live (issue 30).
 *
 * Under load the API allocates a few hundred MB a second of short-lived objects; by default V8 grows
 * the old generation by a factor it picks from the collector's speed (up to 4x the live heap), so the
 * heap in use climbs to 110-160 MiB between full collections while 30-50 MiB is live, and RSS stays at
 * that high-water mark. A fixed factor of 2 (`--heap-growing-percent=100`, the default) held the peak
 * RSS of the bench's loads at 1M jobs at 199 MiB instead of 263, for 6% fewer requests a second (more
 * full collections); 1.5 (50) at 180 MiB for 8-13% fewer (docs/BENCHMARKS.md).
 * Unlike `--max-old-space-size` it is no limit: the heap still grows to whatever is live (a full parts
 * cache, a raw page in flight), only in smaller steps.
 *
 * The flag cannot go in NODE_OPTIONS (Node refuses it there), so each entry point sets it at start,
 * before serving; V8 reads it at every full collection. 0 leaves V8's own factor.
 */
import v8 from 'node:v8';
export function limitHeapGrowth(percent, setFlags = v8.setFlagsFromString) {
    if (percent > 0)
        setFlags(`--heap-growing-percent=${percent}`);
}
//# sourceMappingURL=heap.js.map