/**
 * 429 answers given at the edge, before a request's body is read (src/http/in-flight.ts, the raw
 * endpoint's admission check in src/http/routes/stats.ts): the envelope serialised once per message,
 * byte for byte and header for header what the error middleware (src/http/errors.ts) sends for the
 * same OverloadedError, without building an error, a stack or a body per refusal. A client that does
 * not back off can send thousands of these a second; each costs its headers and little more.
 */
import type { Response } from 'express';
import { OverloadedError } from '../core/errors.ts';
import { errorBody } from './envelope.ts';

export type OverloadedAnswer = (res: Response) => void;

export function overloadedAnswer(message: string, retryAfterSeconds: number): OverloadedAnswer {
  const body = Buffer.from(JSON.stringify(errorBody(new OverloadedError(message, retryAfterSeconds))));
  const retryAfter = String(retryAfterSeconds);
  const length = String(body.length);
  return (res) => {
    res.statusCode = 429;
    res.setHeader('Retry-After', retryAfter);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', length);
    res.end(body);
  };
}

/**
 * The answers for a few messages, each serialised on first use; at most `max` kept (messages that
 * carry a changing number, such as a time budget's Retry-After, are made anew past that).
 */
export function overloadedAnswers(max = 64): (message: string, retryAfterSeconds: number) => OverloadedAnswer {
  const made = new Map<string, OverloadedAnswer>();
  return (message, retryAfterSeconds) => {
    const key = `${retryAfterSeconds} ${message}`;
    let answer = made.get(key);
    if (answer === undefined) {
      answer = overloadedAnswer(message, retryAfterSeconds);
      if (made.size < max) made.set(key, answer);
    }
    return answer;
  };
}
