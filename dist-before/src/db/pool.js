import pg from 'pg';
import { startupOptions } from "./session-mode.js";
/**
 * A bounded pool. pg connects lazily, so creating it costs nothing until the first query, and a
 * Lambda container keeps it across warm invocations. `query_timeout` backs up the server-side
 * statement_timeout, so a dead server cannot hang a request either.
 */
export function createPool(options, log) {
    const pool = new pg.Pool({
        connectionString: options.connectionString,
        max: options.max,
        connectionTimeoutMillis: options.connectTimeoutMs,
        query_timeout: options.statementTimeoutMs + options.connectTimeoutMs,
        idleTimeoutMillis: 30_000,
        keepAlive: true,
        application_name: options.applicationName,
        ...(options.startupSettings === false ? {} : { options: startupOptions(options) }),
    });
    // An idle client losing its connection emits here; without a listener it would crash the process.
    // 57P01 is the server shutting down (a restart, or the embedded server stopping on exit).
    pool.on('error', (err) => {
        if (err.code === '57P01')
            log?.info('idle database connection closed by a server shutdown');
        else
            log?.warn({ err }, 'idle database connection failed');
    });
    return pool;
}
// int8 (count(*), bigint epoch ms) arrives as a string by default; every int8 this service reads
// is an epoch-ms timestamp or a count, far below 2^53, so a JS number is exact.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
//# sourceMappingURL=pool.js.map