/**
 * The per-user bound on requests in the API (src/core/in-flight.ts) at the HTTP edge: mounted right
 * after authentication, before the topic, the ACL and the body, so a request that waits or is
 * refused has cost its headers and its token check only. Its place is freed when the answer is sent
 * ('finish') or the connection closes first ('close': a client that left, whether its request was
 * under way or still waiting), so no failure path can keep it.
 */
import type { RequestHandler } from 'express';
import type { InFlight } from '../core/in-flight.ts';
import { userOf } from './auth.ts';
import { overloadedAnswer } from './overloaded.ts';

/** The refusal's message: the limits are the process's, so it is the same for every refused request. */
export function inFlightRefusalMessage(limits: InFlight['limits'], retryAfterSeconds: number): string {
  return `too many requests of this user under way (at most ${limits.perUser} at once and ${limits.queuePerUser} waiting); retry after ${retryAfterSeconds} s`;
}

export function inFlightGate(inFlight: InFlight, retryAfterSeconds: number): RequestHandler {
  // The same words for every refusal: serialised once (src/http/overloaded.ts).
  const refuse = overloadedAnswer(inFlightRefusalMessage(inFlight.limits, retryAfterSeconds), retryAfterSeconds);
  return (_req, res, next) => {
    const ticket = inFlight.enter(userOf(res), () => next());
    if (ticket === undefined) return refuse(res);
    res.once('finish', ticket.release);
    res.once('close', ticket.release);
    if (!ticket.waiting) next();
  };
}
