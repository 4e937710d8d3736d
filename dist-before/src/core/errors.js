export class AppError extends Error {
    status;
    type;
    name = 'AppError';
    constructor(status, type, message, options) {
        super(message, options);
        this.status = status;
        this.type = type;
    }
}
/** 400: the request broke a documented rule; the message names the field and the rule. */
export class ValidationError extends AppError {
    name = 'ValidationError';
    constructor(message, options) {
        super(400, 'validation', message, options);
    }
}
/** 401 without a valid token; 403 when the token's user is not allowed on the topic. */
export class AuthError extends AppError {
    name = 'AuthError';
    constructor(status, message, options) {
        super(status, 'auth', message, options);
    }
}
/** 403: the user may read the topic but asked for rows outside their constraints. */
export class PermissionError extends AppError {
    name = 'PermissionError';
    constructor(message) {
        super(403, 'permission', message);
    }
}
export class NotFoundError extends AppError {
    name = 'NotFoundError';
    constructor(type, message) {
        super(404, type, message);
    }
}
/** 503: the database is unreachable, too slow, or overloaded. Carries the Retry-After hint. */
export class DatabaseUnavailableError extends AppError {
    retryAfterSeconds;
    name = 'DatabaseUnavailableError';
    constructor(message, retryAfterSeconds, options) {
        super(503, 'database', message, options);
        this.retryAfterSeconds = retryAfterSeconds;
    }
}
/** 503: a materialized view has never been populated (SQLSTATE 55000). */
export class NotReadyError extends AppError {
    retryAfterSeconds;
    name = 'NotReadyError';
    constructor(message, retryAfterSeconds, options) {
        super(503, 'not_ready', message, options);
        this.retryAfterSeconds = retryAfterSeconds;
    }
}
/**
 * 429: the request would read the base tables while too many such reads are under way, for this
 * user or for the whole process (src/core/admission.ts). Carries the Retry-After hint.
 */
export class OverloadedError extends AppError {
    retryAfterSeconds;
    holdMs;
    name = 'OverloadedError';
    constructor(message, retryAfterSeconds, 
    /** How long the answer is held before it is sent (ms): a refusal of the user's own excess, paced (ADMISSION_REFUSAL_HOLD_MS). */
    holdMs = 0) {
        super(429, 'overloaded', message);
        this.retryAfterSeconds = retryAfterSeconds;
        this.holdMs = holdMs;
    }
}
/**
 * A command (npm run seed, refresh, migration:query, token) was asked for something it cannot do:
 * an unknown flag or view, a missing argument. Not an AppError: no client sees it; the command
 * prints its message and exits 2 (src/cli/run.ts).
 */
export class UsageError extends Error {
    name = 'UsageError';
}
//# sourceMappingURL=errors.js.map