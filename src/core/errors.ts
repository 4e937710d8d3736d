/**
 * The one error model. Every failure a client can see is an AppError; the HTTP error middleware
 * renders it into the envelope {success:false, statusCode, errors:[{type, message}]}.
 */
export type ErrorType =
  | 'validation'
  | 'auth'
  | 'permission'
  | 'topic'
  | 'route'
  | 'database'
  | 'not_ready'
  | 'overloaded'
  | 'internal';

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** 400: the request broke a documented rule; the message names the field and the rule. */
export class ValidationError extends AppError {
  override name = 'ValidationError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(400, 'validation', message, options);
  }
}

/** 401 without a valid token; 403 when the token's user is not allowed on the topic. */
export class AuthError extends AppError {
  override name = 'AuthError';
  constructor(status: 401 | 403, message: string, options?: { cause?: unknown }) {
    super(status, 'auth', message, options);
  }
}

/** 403: the user may read the topic but asked for rows outside their constraints. */
export class PermissionError extends AppError {
  override name = 'PermissionError';
  constructor(message: string) {
    super(403, 'permission', message);
  }
}

export class NotFoundError extends AppError {
  override name = 'NotFoundError';
  constructor(type: 'topic' | 'route', message: string) {
    super(404, type, message);
  }
}

/** 503: the database is unreachable, too slow, or overloaded. Carries the Retry-After hint. */
export class DatabaseUnavailableError extends AppError {
  override name = 'DatabaseUnavailableError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(503, 'database', message, options);
  }
}

/** 503: a materialized view has never been populated (SQLSTATE 55000). */
export class NotReadyError extends AppError {
  override name = 'NotReadyError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(503, 'not_ready', message, options);
  }
}

/**
 * 429: the request would read the base tables while too many such reads are under way, for this
 * user or for the whole process (src/core/admission.ts). Carries the Retry-After hint.
 */
export class OverloadedError extends AppError {
  override name = 'OverloadedError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    /** How long the answer is held before it is sent (ms): a refusal of the user's own excess, paced (ADMISSION_REFUSAL_HOLD_MS). */
    readonly holdMs = 0,
  ) {
    super(429, 'overloaded', message);
  }
}

/**
 * A command (npm run seed, refresh, migration:query, token) was asked for something it cannot do:
 * an unknown flag or view, a missing argument. Not an AppError: no client sees it; the command
 * prints its message and exits 2 (src/cli/run.ts).
 */
export class UsageError extends Error {
  override name = 'UsageError';
}
