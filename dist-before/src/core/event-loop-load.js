/**
 * How busy this process's event loop has been lately: the share of time it spent running code
 * (node's event loop utilization), over the interval since it was last measured, measured again at
 * most every `windowMs`. Read lazily by its caller (no timer): a sparse caller gets a longer
 * interval's average, which is what it needs to decide on the next request.
 */
import { performance } from 'node:perf_hooks';
const NODE_CLOCK = {
    now: () => performance.now(),
    utilization: (current, since) => performance.eventLoopUtilization(current, since),
};
export function eventLoopLoad(windowMs = 250, clock = NODE_CLOCK) {
    let since = clock.utilization();
    let at = clock.now();
    let recent = 0;
    return () => {
        const now = clock.now();
        if (now - at >= windowMs) {
            const current = clock.utilization();
            recent = clock.utilization(current, since).utilization;
            since = current;
            at = now;
        }
        return recent;
    };
}
//# sourceMappingURL=event-loop-load.js.map