/**
 * How busy this process's event loop has been lately: the share of time it spent running code
 * (node's event loop utilization), over the interval since it was last measured, measured again at
 * most every `windowMs`. Read lazily by its caller (no timer): a sparse caller gets a longer
 * interval's average, which is what it needs to decide on the next request.
 */
import { performance } from 'node:perf_hooks';

export function eventLoopLoad(windowMs = 250): () => number {
  let since = performance.eventLoopUtilization();
  let at = performance.now();
  let recent = 0;
  return () => {
    const now = performance.now();
    if (now - at >= windowMs) {
      const current = performance.eventLoopUtilization();
      recent = performance.eventLoopUtilization(current, since).utilization;
      since = current;
      at = now;
    }
    return recent;
  };
}
