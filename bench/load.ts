/**
 * HTTP load with autocannon's programmatic API: keep-alive connections, a warm-up that is thrown
 * away, then a measured run. Latencies are taken from every response event rather than from
 * autocannon's histogram, which rounds to whole milliseconds — too coarse for a 5 ms target.
 */
import autocannon from 'autocannon';
import { round, summarize, type Summary } from './stats.ts';

export interface LoadTarget {
  readonly url: string;
  readonly method: 'POST' | 'GET';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface LoadResult {
  readonly connections: number;
  readonly durationS: number;
  readonly responses: number;
  readonly requestsPerSecond: number;
  /** Per-response latency in ms (sub-millisecond resolution). */
  readonly latencyMs: Summary;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly bytesPerSecond: number;
}

interface Fired {
  readonly result: autocannon.Result;
  readonly latencies: number[];
  readonly wallS: number;
}

function fire(target: LoadTarget, connections: number, durationS: number): Promise<Fired> {
  // Every load stays on this machine: the harness measures its own servers, nothing else.
  if (new URL(target.url).hostname !== '127.0.0.1') throw new Error(`refusing to load ${target.url}: only 127.0.0.1 is a target`);
  const latencies: number[] = [];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        method: target.method,
        headers: { ...target.headers },
        ...(target.body === undefined ? {} : { body: target.body }),
        connections,
        duration: durationS,
        timeout: 30,
      },
      (err: unknown, result: autocannon.Result) => {
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve({ result, latencies, wallS: (performance.now() - t0) / 1000 });
      },
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
}

/** A warm-up (discarded) and a measured run at the same number of connections. */
export async function measureLoad(target: LoadTarget, connections: number, warmupS: number, durationS: number): Promise<LoadResult> {
  if (warmupS > 0) await fire(target, connections, warmupS);
  const { result, latencies, wallS } = await fire(target, connections, durationS);
  return {
    connections,
    durationS: round(wallS),
    responses: latencies.length,
    requestsPerSecond: round(latencies.length / wallS, 1),
    latencyMs: summarize(latencies),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    bytesPerSecond: round(result.throughput.average, 0),
  };
}
