/**
 * Loaded into the server under fuzz with `--import` (and --expose-gc): answers the fuzz runner's
 * IPC question with the heap after a forced collection and the event-loop delay since the last
 * question. It adds nothing to the server itself.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface HeapReport {
  readonly type: 'heap';
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
  /** Buffers and other memory outside the JS heap. */
  readonly externalBytes: number;
  readonly loopDelayMaxMs: number;
  readonly loopDelayP99Ms: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (process.send !== undefined && gc !== undefined) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  process.on('message', (message: { type?: unknown }) => {
    if (message?.type !== 'heap') return;
    // Twice: the first collection can leave what finalizers released for the second.
    gc();
    gc();
    const { heapUsed, rss, external } = process.memoryUsage();
    const report: HeapReport = { type: 'heap', heapUsedBytes: heapUsed, rssBytes: rss, externalBytes: external, loopDelayMaxMs: delay.max / 1e6, loopDelayP99Ms: delay.percentile(99) / 1e6 };
    delay.reset();
    process.send?.(report);
  });
  // The IPC channel must not keep a server alive that is otherwise stopping.
  process.channel?.unref();
}
