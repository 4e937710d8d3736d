import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, DatabaseUnavailableError, NotFoundError, NotReadyError, ValidationError } from '../errors.ts';
import { errorBody } from './envelope.ts';

export const notFoundRoute: RequestHandler = (req, _res, next) => {
  next(new NotFoundError('route', `no route ${req.method} ${req.path}`));
};

/** body-parser's failures carry `type`; they are the client's fault, so they map to 4xx. */
function fromBodyParser(err: unknown): AppError | undefined {
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed') return new ValidationError('body: malformed JSON');
  if (type === 'entity.too.large') return new AppError(413, 'validation', 'body: larger than the accepted size');
  if (typeof type === 'string' && type.startsWith('encoding.') || type === 'charset.unsupported') {
    return new AppError(415, 'validation', 'body: unsupported encoding or charset');
  }
  if (type === 'request.aborted' || type === 'request.size.invalid' || type === 'stream.encoding.set') {
    return new ValidationError('body: the request body could not be read');
  }
  return undefined;
}

/**
 * The one renderer of errors. A 500 never carries the error's own text, stack or SQL. Every 503
 * tells the client when to retry: the error's own hint, else `retryAfterSeconds`.
 */
export function errorHandler(retryAfterSeconds = 5): ErrorRequestHandler {
  return (err, req, res, _next) => {
    // Too late for an envelope: end the connection, so the client sees a failure instead of waiting on a half-sent body.
    if (res.headersSent) {
      req.log?.error({ err }, 'error after the response started');
      res.destroy();
      return;
    }
    const known = err instanceof AppError ? err : fromBodyParser(err);
    const appError = known ?? new AppError(500, 'internal', 'internal error');
    if (appError.status >= 500) {
      req.log?.error({ err }, appError.type === 'internal' ? 'unhandled error' : appError.message);
    }
    if (appError instanceof DatabaseUnavailableError || appError instanceof NotReadyError) {
      res.setHeader('Retry-After', String(appError.retryAfterSeconds));
    } else if (appError.status === 503) {
      res.setHeader('Retry-After', String(retryAfterSeconds));
    }
    res.status(appError.status).json(errorBody(appError));
  };
}
