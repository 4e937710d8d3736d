import { isPreparedStatementError, mapPgError } from "./pg-errors.js";
import { PreparedStatements } from "./prepared.js";
import { beginStatement, SessionMode } from "./session-mode.js";
/**
 * While a client is checked out the pool listens for none of its errors: a connection the server
 * ends between two of our statements (a restart, pg_terminate_backend: 57P01) would emit an
 * 'error' nobody handles, and the process would exit. Noted instead (the client is then released
 * as broken, and the next statement on it fails and is mapped to 503); returns the unsubscribe.
 */
function watchCheckedOut(client, note) {
    client.on('error', note);
    return () => client.off('error', note);
}
/** One statement in a transaction of its own, its settings applied by SET LOCAL, on one client. */
async function inTransaction(pool, begin, config) {
    const client = await pool.connect();
    let broken;
    const lost = watchCheckedOut(client, (err) => (broken ??= err));
    try {
        await client.query(begin);
        const res = await client.query(config);
        await client.query('COMMIT');
        return res.rows;
    }
    catch (err) {
        try {
            await client.query('ROLLBACK');
        }
        catch (rollbackFailed) {
            // The connection is gone or unusable: the pool must not hand it out again.
            broken = rollbackFailed;
        }
        throw err;
    }
    finally {
        lost();
        client.release(broken);
    }
}
/**
 * A statement on a client of its own: named ones planned once and kept to a bounded number per
 * connection, unnamed ones under the session's plan settings (src/db/prepared.ts).
 */
async function onClient(pool, prepared, config) {
    const client = await pool.connect();
    let failed;
    const lost = watchCheckedOut(client, (err) => (failed ??= err));
    try {
        await prepared.before(client, config.name);
        return (await client.query(config)).rows;
    }
    catch (err) {
        // As pool.query does: a client whose statement failed is not handed out again.
        failed = err;
        throw err;
    }
    finally {
        lost();
        client.release(failed);
    }
}
export function createExecutor(pool, options) {
    const o = typeof options === 'number' ? { retryAfterSeconds: options } : options;
    const begin = o.settings ? beginStatement(o.settings) : 'BEGIN';
    const prepared = o.preparedMax ? new PreparedStatements(o.preparedMax) : undefined;
    const run = async (q, named) => {
        const mode = o.session ? await o.session.settle() : 'none';
        const name = named && o.preparedMax !== 0 && (mode === 'none' || o.forceNamed) ? q.name : undefined;
        const config = { text: q.text, values: q.values, name };
        // The `transaction` mode names statements only under the test hook: their server connection is any.
        if (mode === 'transaction')
            return inTransaction(pool, begin, config);
        if (!prepared)
            return (await pool.query(config)).rows;
        return onClient(pool, prepared, config);
    };
    return {
        async query(q) {
            try {
                try {
                    return await run(q, true);
                }
                catch (err) {
                    // A named statement the server connection does not know, or already knows under that name:
                    // it was parsed on another server connection (a transaction pooler between us). Once more,
                    // unnamed; a second failure is a 503 (mapPgError), never a 500.
                    if (!isPreparedStatementError(err))
                        throw err;
                    o.onRetry?.(err);
                    return await run(q, false);
                }
            }
            catch (err) {
                throw mapPgError(err, o.retryAfterSeconds);
            }
        },
    };
}
//# sourceMappingURL=executor.js.map