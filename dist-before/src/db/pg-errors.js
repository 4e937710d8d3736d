/**
 * The single mapping from driver and server failures to the error model. Anything not listed here
 * is a bug and surfaces as a 500 "internal" (without its text).
 */
import { AppError, DatabaseUnavailableError, NotReadyError } from "../core/errors.js";
const UNAVAILABLE_SQLSTATE_CLASSES = ['08', '53', '57']; // connection exception, insufficient resources, operator intervention
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH', 'EAI_AGAIN']);
const UNAVAILABLE_MESSAGES = [
    'timeout exceeded when trying to connect',
    'Connection terminated',
    'Query read timeout',
    'Client has encountered a connection error',
    'the database system is',
];
// A named prepared statement the server connection does not have (26000), or has already (42P05):
// what a transaction-mode pooler causes when a statement parsed on one server connection is used on
// another. PgBouncer may also relay them as bare messages, without the SQLSTATE.
const PREPARED_STATEMENT_CODES = new Set(['26000', '42P05']);
const PREPARED_STATEMENT_MESSAGE = /prepared statement "[^"]*" (does not exist|already exists)/;
/** serialization_failure and deadlock_detected: what a standby's replay cancels a conflicting read with. */
export const RECOVERY_CONFLICT_SQLSTATES = ['40001', '40P01'];
export function codeOf(err) {
    const code = err?.code;
    return typeof code === 'string' ? code : undefined;
}
export function isPreparedStatementError(err) {
    if (err instanceof AppError)
        return false;
    const code = codeOf(err);
    if (code !== undefined && PREPARED_STATEMENT_CODES.has(code))
        return true;
    return PREPARED_STATEMENT_MESSAGE.test(err instanceof Error ? err.message : String(err));
}
export function mapPgError(err, retryAfterSeconds) {
    if (err instanceof AppError)
        return err;
    const code = codeOf(err);
    const message = err instanceof Error ? err.message : String(err);
    if (code === '55000') {
        return new NotReadyError('the materialized view has not been populated yet; retry after its first refresh', retryAfterSeconds, { cause: err });
    }
    if (code !== undefined && RECOVERY_CONFLICT_SQLSTATES.includes(code)) {
        // On a standby: replay cancelled the read (a conflict with recovery); on a primary a read-only
        // statement meets neither. src/db/read-targets.ts retries it once first.
        return new DatabaseUnavailableError('the read was cancelled by a conflict with replication; retry', retryAfterSeconds, { cause: err });
    }
    if (code === '57014') {
        return new DatabaseUnavailableError('the database did not answer within the statement timeout', retryAfterSeconds, { cause: err });
    }
    if (isPreparedStatementError(err)) {
        return new DatabaseUnavailableError('the database connection lost a prepared statement (a transaction-mode pooler); retry', retryAfterSeconds, { cause: err });
    }
    if ((code !== undefined && (UNAVAILABLE_NODE_CODES.has(code) || UNAVAILABLE_SQLSTATE_CLASSES.includes(code.slice(0, 2)))) ||
        UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) {
        return new DatabaseUnavailableError('the database is unavailable', retryAfterSeconds, { cause: err });
    }
    return err;
}
/**
 * Whether a failure (raw or mapped) says the database could not be reached or dropped the session
 * (refused, unreachable, shut down, starting up), as opposed to a statement that failed or ran too
 * long there: the reads router (src/db/read-targets.ts) takes such a replica out for a while.
 */
export function isConnectionFailure(err) {
    const raw = err instanceof AppError ? err.cause : err;
    const code = codeOf(raw);
    const message = raw instanceof Error ? raw.message : String(raw);
    if (code !== undefined && (UNAVAILABLE_NODE_CODES.has(code) || code.startsWith('08') || ['57P01', '57P02', '57P03'].includes(code)))
        return true;
    return UNAVAILABLE_MESSAGES.some((m) => message.includes(m));
}
/** Whether a failure (raw or mapped) is a standby's replay cancelling the read. */
export function isRecoveryConflict(err) {
    const code = codeOf(err instanceof AppError ? err.cause : err);
    return code !== undefined && RECOVERY_CONFLICT_SQLSTATES.includes(code);
}
//# sourceMappingURL=pg-errors.js.map