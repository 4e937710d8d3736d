/**
 * Closed-loop HTTP load on 127.0.0.1: N connections, each sending its next request when the last
 * one answered, until stopped. Every request is kept as a sample, so a scenario can judge each phase
 * (before, during and after what it breaks) on its own.
 */
export interface Sample {
  readonly path: string;
  /** When the request was sent (ms since the epoch). */
  readonly t: number;
  readonly ms: number;
  /** HTTP status; 0 when no answer came within the client's limit, -1 when the connection failed. */
  readonly status: number;
  /** The error type of an error envelope. */
  readonly type?: string;
  readonly retryAfter?: string | null;
  readonly body?: unknown;
  /** What was asked, kept for a request that failed or took a second or more (so a report can name it). */
  readonly request?: LoadRequest;
}

export interface LoadRequest {
  readonly path: string;
  readonly body?: unknown;
}

export interface Load {
  readonly samples: Sample[];
  stop(): Promise<Sample[]>;
}

const CLIENT_LIMIT_MS = 30_000;
/** A request at least this slow keeps what it asked in its sample. */
const SLOW_MS = 1_000;

export async function send(base: string, bearer: string, r: LoadRequest): Promise<Sample> {
  const t = Date.now();
  const t0 = performance.now();
  try {
    const res = await fetch(base + r.path, {
      method: r.body === undefined ? 'GET' : 'POST',
      headers: { authorization: bearer, 'content-type': 'application/json' },
      body: r.body === undefined ? undefined : JSON.stringify(r.body),
      signal: AbortSignal.timeout(CLIENT_LIMIT_MS),
    });
    const body = (await res.json().catch(() => undefined)) as { errors?: { type?: string }[] } | undefined;
    return { path: r.path, t, ms: performance.now() - t0, status: res.status, type: body?.errors?.[0]?.type, retryAfter: res.headers.get('retry-after'), body };
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    return { path: r.path, t, ms: performance.now() - t0, status: timedOut ? 0 : -1 };
  }
}

/** Starts `connections` loops; each sends next(i) in turn. */
export function startLoad(base: string, bearer: string, connections: number, next: (i: number) => LoadRequest): Load {
  const samples: Sample[] = [];
  let running = true;
  let i = 0;
  const loops = Array.from({ length: connections }, async () => {
    while (running) {
      const r = next(i++);
      const s = await send(base, bearer, r);
      samples.push({ ...s, body: undefined, request: s.status !== 200 || s.ms >= SLOW_MS ? r : undefined });
    }
  });
  return {
    samples,
    async stop() {
      running = false;
      await Promise.all(loops);
      return samples;
    },
  };
}

/**
 * Open-loop load: `rate` requests a second sent on a fixed schedule whatever the answers (as many
 * dashboards polling do), each one's latency counted from when it was due, not from when it left, so
 * a stalled process's delay counts against every request it held back (no coordinated omission).
 */
export function startRateLoad(base: string, bearer: string, rate: number, next: (i: number) => LoadRequest): Load {
  const samples: Sample[] = [];
  const pending = new Set<Promise<void>>();
  let running = true;
  const start = performance.now();
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!running) break;
      const r = next(i);
      const p = send(base, bearer, r).then((s) => {
        const ms = performance.now() - due;
        samples.push({ ...s, ms, body: undefined, request: s.status !== 200 || ms >= SLOW_MS ? r : undefined });
        pending.delete(p);
      });
      pending.add(p);
    }
  })();
  return {
    samples,
    async stop() {
      running = false;
      await loop;
      await Promise.all(pending);
      return samples;
    },
  };
}
