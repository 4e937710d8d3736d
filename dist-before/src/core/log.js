import { pino } from 'pino';
/**
 * Errors are logged by their own facts only: driver errors carry references to their client (and
 * its connection settings), which must never be dumped into a log line.
 */
export function serializeError(err) {
    if (!(err instanceof Error))
        return { message: String(err) };
    const { code, severity, detail } = err;
    return { type: err.name, message: err.message, code, severity, detail, stack: err.stack };
}
/**
 * Structured JSON logs on stdout. Secrets never reach them: tokens and passwords are redacted.
 * `sync` writes each line before returning (the Lambda: a frozen or signalled instance must not
 * lose the lines still buffered); otherwise pino's asynchronous writes.
 */
export function createLogger(level, name = 'eventstats', options = {}) {
    const settings = {
        name,
        level,
        serializers: { err: serializeError },
        redact: ['req.headers.authorization', 'req.headers.bearer', 'req.headers["x-dev-token-secret"]', 'password', '*.password'],
    };
    return options.sync ? pino(settings, pino.destination({ dest: 1, sync: true })) : pino(settings);
}
//# sourceMappingURL=log.js.map