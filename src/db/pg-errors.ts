/**
 * The single mapping from driver and server failures to the error model. Anything not listed here
 * is a bug and surfaces as a 500 "internal" (without its text).
 */
import { AppError, DatabaseUnavailableError, NotReadyError } from '../errors.ts';

const UNAVAILABLE_SQLSTATE_CLASSES = ['08', '53', '57']; // connection exception, insufficient resources, operator intervention
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH', 'EAI_AGAIN']);
const UNAVAILABLE_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Query read timeout',
  'Client has encountered a connection error',
  'the database system is',
];

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function mapPgError(err: unknown, retryAfterSeconds: number): unknown {
  if (err instanceof AppError) return err;
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code === '55000') {
    return new NotReadyError('the materialized view has not been populated yet; retry after its first refresh', retryAfterSeconds, { cause: err });
  }
  if (code === '57014') {
    return new DatabaseUnavailableError('the database did not answer within the statement timeout', retryAfterSeconds, { cause: err });
  }
  if (
    (code !== undefined && (UNAVAILABLE_NODE_CODES.has(code) || UNAVAILABLE_SQLSTATE_CLASSES.includes(code.slice(0, 2)))) ||
    UNAVAILABLE_MESSAGES.some((m) => message.includes(m))
  ) {
    return new DatabaseUnavailableError('the database is unavailable', retryAfterSeconds, { cause: err });
  }
  return err;
}
