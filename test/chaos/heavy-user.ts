/**
 * The admission stage's first user as a client process of its own (test/chaos/abuse.ts): N
 * connections of base-table reads for a number of seconds, then one JSON line on stdout with the
 * answers by status and whether every 429 said when to retry.
 *
 * Its own process because a user of the service is a client of its own: run inside the process that
 * times the second user's reads, parsing each 1,000-row page (and the harness's timers waiting
 * behind it) was counted into the second user's latency, a delay no real dashboard beside a heavy
 * user pays.
 *
 *   node node_modules/tsx/dist/cli.mjs test/chaos/heavy-user.ts '<HeavyUserConfig as JSON>'
 */
import { setTimeout as delay } from 'node:timers/promises';
import { send, type LoadRequest, type Sample } from './load.ts';

export interface HeavyUserConfig {
  readonly base: string;
  readonly bearer: string;
  readonly connections: number;
  readonly seconds: number;
  /** Each connection waits out a 429's Retry-After before its next request, as a well-behaved client does; otherwise it sends at once. */
  readonly polite: boolean;
  /** The requests' `now` (ms), shared with the stage so its windows do not move with the process's start. */
  readonly now: number;
}

export interface HeavyUserReport {
  readonly byStatus: Record<string, number>;
  readonly every429HasRetryAfter: boolean;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const RUNS = '/stats/public.cps.za.runs';

/** 31-day raw pages and aggregation_by_catalog windows before the recent tier, alternately. */
export function heavyRequest(now: number, i: number): LoadRequest {
  return i % 2
    ? { path: RUNS, body: { timestamp_start: now - 31 * DAY + 1, timestamp_end: now, limit: 1000 } }
    : { path: `${RUNS}/query/aggregation_by_catalog`, body: { timestamp_start: now - 29 * DAY + 5 * HOUR + (i % 60) * 1000, timestamp_end: now - 20 * DAY - 5 * HOUR, limit: 1000 } };
}

export async function runHeavyUser(c: HeavyUserConfig): Promise<HeavyUserReport> {
  const until = Date.now() + c.seconds * 1000;
  const samples: Sample[] = [];
  let i = 0;
  await Promise.all(
    Array.from({ length: c.connections }, async () => {
      while (Date.now() < until) {
        const s = await send(c.base, c.bearer, heavyRequest(c.now, i++));
        samples.push({ ...s, body: undefined });
        if (c.polite && s.status === 429) {
          const retryAt = Date.now() + Number(s.retryAfter ?? 1) * 1000;
          while (Date.now() < Math.min(retryAt, until)) await delay(100);
        }
      }
    }),
  );
  const byStatus: Record<string, number> = {};
  for (const s of samples) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
  const refused = samples.filter((s) => s.status === 429);
  return { byStatus, every429HasRetryAfter: refused.every((s) => s.retryAfter !== null && s.retryAfter !== undefined) };
}

if (process.argv[1]?.endsWith('heavy-user.ts')) {
  const config = JSON.parse(process.argv[2] ?? '') as HeavyUserConfig;
  process.stdout.write(`${JSON.stringify(await runHeavyUser(config))}\n`);
}
