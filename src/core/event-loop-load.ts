/**
 * How busy this process's event loop has been lately: the share of time it spent running code
 * (node's event loop utilization), over the interval since it was last measured, measured again at
 * most every `windowMs`. Read lazily by its caller (no timer): a sparse caller gets a longer
 * interval's average, which is what it needs to decide on the next request.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Where the readings come from: node's own by default; a unit test passes a scripted one. */
export interface LoopClock {
  now(): number;
  utilization(current?: EventLoopUtilization, since?: EventLoopUtilization): EventLoopUtilization;
}

const NODE_CLOCK: LoopClock = {
  now: () => performance.now(),
  utilization: (current, since) => performance.eventLoopUtilization(current, since),
};

export function eventLoopLoad(windowMs = 250, clock: LoopClock = NODE_CLOCK): () => number {
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
