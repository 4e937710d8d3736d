import { AppError, DatabaseUnavailableError, NotFoundError, NotReadyError, OverloadedError, ValidationError } from "../core/errors.js";
import { errorBody } from "./envelope.js";
export const notFoundRoute = (req, _res, next) => {
    next(new NotFoundError('route', `no route ${req.method} ${req.path}`));
};
/** The framework's own failures on a bad request (router, body-parser) are the client's fault: they map to 4xx. */
function fromFramework(err) {
    // router: a path segment that is not percent-encoded UTF-8 (its decodeURIComponent threw).
    if (err instanceof URIError)
        return new ValidationError('path: a segment is not valid percent-encoded UTF-8');
    const { type, status, expose } = (err ?? {});
    if (type === 'entity.parse.failed')
        return new ValidationError('body: malformed JSON');
    if (type === 'entity.too.large')
        return new AppError(413, 'validation', 'body: larger than the accepted size');
    if (typeof type === 'string' && type.startsWith('encoding.') || type === 'charset.unsupported') {
        return new AppError(415, 'validation', 'body: unsupported encoding or charset');
    }
    if (type === 'request.aborted' || type === 'request.size.invalid' || type === 'stream.encoding.set') {
        return new ValidationError('body: the request body could not be read');
    }
    // body-parser marks any other failure while reading the body a client error, a body that does not
    // decompress as its Content-Encoding says included.
    if (status === 400 && expose === true)
        return new ValidationError('body: could not be decoded as its Content-Encoding says');
    return undefined;
}
/**
 * At most one log line per interval for a kind of error that every request meets while it lasts (a
 * database outage: hundreds of requests a second), carrying how many it stood for.
 */
export class LogThrottle {
    intervalMs;
    now;
    last = new Map();
    constructor(intervalMs = 1000, now = Date.now) {
        this.intervalMs = intervalMs;
        this.now = now;
    }
    /** Whether to log `key` now, and how many were left unlogged since its last line. */
    take(key) {
        const t = this.now();
        const seen = this.last.get(key);
        if (seen && t - seen.at < this.intervalMs) {
            seen.suppressed += 1;
            return { log: false, suppressed: seen.suppressed };
        }
        this.last.set(key, { at: t, suppressed: 0 });
        return { log: true, suppressed: seen?.suppressed ?? 0 };
    }
}
/**
 * The one renderer of errors. A 500 never carries the error's own text, stack or SQL. Every 503
 * tells the client when to retry: the error's own hint, else `retryAfterSeconds`.
 */
export function errorHandler(retryAfterSeconds = 5, throttle = new LogThrottle()) {
    return (err, req, res, _next) => {
        // Too late for an envelope: end the connection, so the client sees a failure instead of waiting on a half-sent body.
        if (res.headersSent) {
            req.log?.error({ err }, 'error after the response started');
            res.destroy();
            return;
        }
        const known = err instanceof AppError ? err : fromFramework(err);
        const appError = known ?? new AppError(500, 'internal', 'internal error');
        if (appError instanceof DatabaseUnavailableError) {
            // An outage: one line a second, not one per request.
            const { log, suppressed } = throttle.take(appError.type);
            if (log)
                req.log?.error({ err, suppressed }, `${appError.message} (${suppressed} more answered so since the last line)`);
        }
        else if (appError.status >= 500) {
            req.log?.error({ err }, appError.type === 'internal' ? 'unhandled error' : appError.message);
        }
        if (appError instanceof DatabaseUnavailableError || appError instanceof NotReadyError || appError instanceof OverloadedError) {
            res.setHeader('Retry-After', String(appError.retryAfterSeconds));
        }
        else if (appError.status === 503) {
            res.setHeader('Retry-After', String(retryAfterSeconds));
        }
        // An error is never cached, by the client or anything in between, and is always JSON (a CSV
        // request's too): headers an answer may have set before failing are dropped.
        for (const name of ['ETag', 'Last-Modified', 'Content-Disposition', 'Vary'])
            res.removeHeader(name);
        res.setHeader('Cache-Control', 'no-store');
        const send = () => res.status(appError.status).json(errorBody(appError));
        // A refusal of the user's own excess may be held (src/core/admission.ts refusalHoldMs); not sent to a client that left.
        if (appError instanceof OverloadedError && appError.holdMs > 0)
            setTimeout(() => res.destroyed || send(), appError.holdMs).unref();
        else
            send();
    };
}
//# sourceMappingURL=errors.js.map