/**
 * How the API's session settings (statement_timeout, read-only, and JIT off: JIT_SETTING below)
 * reach the server, which depends on what sits between the API and PostgreSQL:
 *   - `none` (a direct connection, or a session-mode pooler): the settings go in the startup packet
 *     (`options=-c ...`) once per connection, and the executor's hot statements are named prepared
 *     statements (parsed once per connection);
 *   - `transaction` (PgBouncer / RDS Proxy in transaction mode): no startup parameters (PgBouncer
 *     refuses `options`), and each statement runs in a transaction of its own that applies the
 *     settings with SET LOCAL, so nothing depends on a server session outliving a transaction; every
 *     statement is unnamed, since a named one may have been parsed on another server connection;
 *   - `auto` (the default): `none`, unless the server refuses the startup parameters the way a
 *     transaction pooler does (PgBouncer's "unsupported startup parameter"), or the first connection
 *     does not carry them (a pooler told to ignore `options` drops them silently, and reads would
 *     run without a statement timeout and writable): then `transaction`, with one warning.
 */
import { LRUCache } from 'lru-cache';
/**
 * JIT compilation off for every API session. EventStats' statements read pre-aggregated rows and
 * finish in milliseconds, but PostgreSQL decides on JIT from the *estimated* cost: a statement
 * whose estimate crosses jit_above_cost (or the inline/optimize thresholds) pays tens to hundreds
 * of milliseconds of LLVM compilation that its execution never wins back (docs/ARCHITECTURE.md,
 * "The PostgreSQL users run"). Builds without JIT (the embedded one) ignore the setting.
 */
export const JIT_SETTING = 'jit=off';
/** The `options` startup parameter carrying the settings (the `none` mode). */
export function startupOptions(s) {
    const settings = [`-c statement_timeout=${s.statementTimeoutMs}`, `-c ${JIT_SETTING}`];
    if (s.readOnly)
        settings.push('-c default_transaction_read_only=on');
    return settings.join(' ');
}
/**
 * The `transaction` mode's opening round trip: one simple-protocol message, so BEGIN and SET LOCAL
 * cost one round trip together. SET takes no bound parameters; the timeout is a validated integer
 * from the config, asserted again here, never a client's value.
 */
export function beginStatement(s) {
    if (!Number.isSafeInteger(s.statementTimeoutMs) || s.statementTimeoutMs < 0)
        throw new Error(`bad statement timeout: ${s.statementTimeoutMs}`);
    return `BEGIN${s.readOnly ? ' READ ONLY' : ''}; SET LOCAL statement_timeout = ${s.statementTimeoutMs}; SET LOCAL ${JIT_SETTING.replace('=', ' = ')}`;
}
/** Whether a connection runs under the settings the startup packet asked for (pg_settings gives the timeout in ms). */
async function carries(client, s) {
    const { rows } = await client.query(`SELECT (SELECT setting FROM pg_settings WHERE name = 'statement_timeout') AS timeout, current_setting('default_transaction_read_only') AS read_only,
            current_setting('jit') AS jit`);
    const row = rows[0];
    // jit too: a role whose own settings match the first two would otherwise hide a dropped packet.
    return row !== undefined && Number(row.timeout) === s.statementTimeoutMs && (row.read_only === 'on') === s.readOnly && row.jit === 'off';
}
/** PgBouncer's refusal of a startup parameter it does not carry (it answers 08P01 with this text). */
export function isStartupParameterRefusal(err) {
    const message = err instanceof Error ? err.message : String(err);
    return message.includes('unsupported startup parameter');
}
/**
 * The mode one pool runs in. `auto` settles on the first connection: `settle()` connects once, and on
 * a startup-parameter refusal switches the pool to connect without them (pg's pool creates each new
 * client from its `options`, so later connections follow) and the executor to per-transaction
 * settings. A failure of any other kind leaves it unsettled, to try again on the next statement.
 */
export class SessionMode {
    pool;
    log;
    expected;
    current;
    /** The one probe in flight; its answer is kept (no ttl), a failed one is not, so the next statement tries again. */
    settled = new LRUCache({ max: 1, fetchMethod: () => this.probe() });
    /**
     * @param expected the settings the startup packet carries (the `none` mode): `auto` checks the
     *   first connection has them, and falls back to `transaction` when it does not.
     */
    constructor(pool, configured, log, expected) {
        this.pool = pool;
        this.log = log;
        this.expected = expected;
        this.current = configured === 'auto' ? undefined : configured;
    }
    /** `none` or `transaction` once settled; undefined while `auto` has not connected yet. */
    get mode() {
        return this.current;
    }
    /** Resolves to the mode, connecting once if `auto` has not settled. */
    async settle() {
        return this.current ?? (await this.settled.fetch('mode')) ?? 'none';
    }
    async probe() {
        let client;
        try {
            client = await this.pool.connect();
        }
        catch (err) {
            if (!isStartupParameterRefusal(err))
                throw err;
            return this.fallBack('refused');
        }
        let carried;
        try {
            carried = this.expected === undefined || (await carries(client, this.expected));
        }
        catch (err) {
            // A connection that failed mid-check must not be handed out again.
            client.release(err);
            throw err;
        }
        client.release();
        if (!carried)
            return this.fallBack('dropped');
        return (this.current ??= 'none');
    }
    fallBack(why) {
        if (this.current === 'transaction')
            return this.current;
        delete this.pool.options.options;
        this.current = 'transaction';
        const what = why === 'refused'
            ? 'the database refused startup parameters the way a transaction-mode pooler (PgBouncer) does'
            : 'the first connection did not carry the startup options (statement_timeout, default_transaction_read_only, jit): something between the API and PostgreSQL drops them';
        this.log?.warn(`${what}: running each statement in its own transaction with SET LOCAL settings and unnamed statements (set DB_POOLER=transaction to say so)`);
        return this.current;
    }
}
//# sourceMappingURL=session-mode.js.map