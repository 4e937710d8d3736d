/**
 * A refresh holds a session advisory lock across statements (single-flight per view, refresh-view.ts)
 * and runs its cycle on one session: the id bound and the plan outside a transaction, then one
 * REPEATABLE READ transaction. A transaction-mode pooler (PgBouncer `pool_mode = transaction`) may
 * give each of those statements another server session: the lock could be taken on one and released
 * (or leaked) on another, and two workers could then refresh one view at once, or none ever again.
 * So the worker and `npm run refresh` check, before any work, that their sessions are the server's
 * own, and refuse to start otherwise. (pg-boss itself is fine there: its locks are
 * pg_advisory_xact_lock inside one multi-statement transaction, SET LOCAL timeouts, no named
 * statements, and LISTEN/NOTIFY off unless asked for.)
 */
import pg from 'pg';
import { ConfigError } from "../core/config.js";
export const BEHIND_TRANSACTION_POOLER = 'DATABASE_URL reaches PostgreSQL through a transaction-mode pooler (PgBouncer pool_mode = transaction), ' +
    "which cannot keep the refresh's session lock across statements: point the worker's and `npm run refresh`'s DATABASE_URL " +
    'at the database directly (or at a session-mode pool); the API can stay behind the pooler';
const ROUNDS = 3;
/**
 * A's second statement waits for a server connection while B holds one in its transaction: behind a
 * pooler of one server connection it would wait for B forever. On a direct session it never waits.
 */
const WAIT_MS = 5_000;
async function backendPid(c) {
    const { rows } = await c.query('SELECT pg_backend_pid() AS pid');
    return rows[0].pid;
}
/**
 * True when two statements of one client session may run on different server sessions. On a direct
 * connection (or a session-mode pool) a session's backend pid never changes and two open sessions
 * never share one, so this never answers true there. Behind a transaction-mode pooler, client B
 * opens a transaction between two statements of client A: B is handed the server connection A just
 * released (PgBouncer reuses the most recent one), so A's next statement needs another one: A's pid
 * changes, or B's equals A's. Three rounds cover the rare interleaving with other clients' traffic.
 */
export async function behindTransactionPooler(connectionString) {
    const a = new pg.Client({ connectionString, application_name: 'eventstats-session-check', query_timeout: WAIT_MS });
    const b = new pg.Client({ connectionString, application_name: 'eventstats-session-check' });
    const ignore = () => { };
    a.on('error', ignore);
    b.on('error', ignore);
    try {
        await a.connect();
        await b.connect();
        for (let round = 0; round < ROUNDS; round++) {
            const first = await backendPid(a);
            await b.query('BEGIN');
            const other = await backendPid(b);
            let second;
            try {
                second = await backendPid(a);
            }
            catch (err) {
                // Waiting for a server connection that B holds: only a pooler makes a session wait for another's.
                if (err instanceof Error && err.message.includes('Query read timeout'))
                    return true;
                throw err;
            }
            await b.query('COMMIT');
            if (first !== second || other === first)
                return true;
        }
        return false;
    }
    finally {
        await Promise.allSettled([a.end(), b.end()]);
    }
}
/** Throws a ConfigError (one line, exit 2) when DATABASE_URL goes through a transaction-mode pooler. */
export async function assertDirectSessions(connectionString) {
    if (await behindTransactionPooler(connectionString))
        throw new ConfigError(BEHIND_TRANSACTION_POOLER);
}
//# sourceMappingURL=direct-session.js.map