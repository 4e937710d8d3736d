import { LONG_WRITER_MS } from "../core/config.js";
import { TABLES } from "../db/tables.js";
import { planCycle, runCycle } from "../maintenance/cycle.js";
// Session advisory locks are keyed by a number; the namespace keeps ours apart from pg-boss's.
const LOCK_NAMESPACE = 'eventstats.refresh:';
// The change key, the state read and the log row take milliseconds. They get a bound of their own,
// apart from the configured one, so that a refresh timeout however tight still lets the failure be
// recorded on this connection.
const BOOKKEEPING_TIMEOUT_MS = 30_000;
/** How often the server checks, while a refresh statement runs, that the refresh's client is still there. */
const CONNECTION_CHECK_MS = 1_000;
const ABANDONED = "the refresh's session ended before it finished (its process was killed or lost its connection); nothing it did was kept";
/**
 * Cancels the statement a pooled session is running when the signal aborts. The cancel goes through
 * the pool, which has a connection to spare beside the refreshes (the worker sizes it so). It reaches
 * the server later than the abort, so the session it was sent to is never reused: `cancelled()` tells
 * the caller to discard it, or a late cancel could stop a statement of the next refresh on it.
 */
function cancelOnAbort(pool, client, signal) {
    if (!signal)
        return { stop: () => { }, cancelled: () => false };
    const pid = client.processID;
    let sent = false;
    const cancel = () => {
        sent = true;
        pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => {
            // The session ended already, or the database is gone: nothing is left to cancel.
        });
    };
    signal.addEventListener('abort', cancel, { once: true });
    return { stop: () => signal.removeEventListener('abort', cancel), cancelled: () => sent };
}
export async function refreshView(pool, view, options) {
    const client = await pool.connect();
    // A session ended under a checked-out client (terminated, failover) is reported by the statement
    // that fails; without a listener the client's 'error' event would end the process.
    const onError = () => { };
    client.on('error', onError);
    const cancelling = cancelOnAbort(pool, client, options.signal);
    try {
        // started_at comes from the database clock, like finished_at: the log's intervals are then
        // comparable across worker hosts whose clocks differ. The timeouts are set whether or not the
        // lock is taken (the session's settings are reset below either way): one round trip.
        // One statement takes the view's lock, sets the session's limits, and marks 'abandoned' the
        // attempts of this view still logged as 'running': their sessions have ended, or the lock would
        // not be free. client_connection_check_interval ends this session's statement soon after its
        // client dies (a worker SIGKILLed mid-refresh), rather than when the statement would finish.
        // JIT is off for the whole cycle: its statements are estimated from sub-selects the planner
        // cannot see into (sealed_to, the watermark), and a misestimate past jit_*_above_cost made a
        // 10 ms cycle pay a second of LLVM compilation on a JIT-enabled server (docs/ARCHITECTURE.md).
        // A rebuild runs without it too: every rebuild figure in docs/BENCHMARKS.md is without JIT.
        const session = await client.query(`WITH lock AS (
         SELECT pg_try_advisory_lock(hashtext($1)) AS ok, set_config('statement_timeout', $2, false), set_config('lock_timeout', $3, false),
                set_config('client_connection_check_interval', $4, false), set_config('jit', 'off', false), clock_timestamp() AS started_at),
       abandoned AS (
         UPDATE ${TABLES.refreshLog} l SET outcome = 'abandoned', finished_at = (SELECT started_at FROM lock), error = $5
          WHERE l.view_name = $6 AND l.outcome = 'running' AND (SELECT ok FROM lock))
       SELECT ok, started_at FROM lock`, [LOCK_NAMESPACE + view.name, String(BOOKKEEPING_TIMEOUT_MS), String(options.lockTimeoutMs), String(CONNECTION_CHECK_MS), ABANDONED, view.name]);
        if (session.rows[0]?.ok !== true)
            return { view: view.name, outcome: 'coalesced', durationMs: 0, watermark: null };
        const startedAt = session.rows[0].started_at;
        const t0 = performance.now();
        // No lock is taken on the gateway's tables: in-flight writers hold back only their own ids.
        const plan = await planCycle(client, view.spec, {
            rebuild: options.rebuild,
            now: options.now,
            naiveWatermark: options.naiveWatermark,
            longWriterMs: options.longWriterMs ?? LONG_WRITER_MS,
            holderWaitMs: options.holderWaitMs,
        });
        const watermark = plan.key;
        const populated = plan.populated;
        const logged = (outcome, error, report) => [
            Math.round(performance.now() - t0),
            outcome,
            error ?? null,
            watermark,
            report ? JSON.stringify(report) : null,
        ];
        // A skipped cycle is one row; a cycle that runs is a 'running' row, finished in place (below).
        const record = async (outcome, error, report) => {
            const values = logged(outcome, error, report);
            await client.query(`INSERT INTO ${TABLES.refreshLog} (view_name, started_at, finished_at, duration_ms, outcome, error, watermark, detail)
         VALUES ($1, $2, clock_timestamp(), $3, $4, $5, $6, $7)`, [view.name, startedAt, ...values]);
            return values[0];
        };
        const finish = async (id, outcome, error, report) => {
            const values = logged(outcome, error, report);
            await client.query(`UPDATE ${TABLES.refreshLog} SET finished_at = clock_timestamp(), duration_ms = $2, outcome = $3, error = $4, watermark = $5, detail = $6
          WHERE id = $1`, [id, ...values]);
            return values[0];
        };
        if (!options.force && plan.unchanged) {
            return { view: view.name, outcome: 'skipped', durationMs: await record('skipped'), watermark };
        }
        const running = await client.query(`INSERT INTO ${TABLES.refreshLog} (view_name, started_at, outcome, watermark) VALUES ($1, $2, 'running', $3) RETURNING id`, [view.name, startedAt, watermark]);
        const attemptId = running.rows[0].id;
        let durationMs;
        let report;
        try {
            await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
            await client.query(`SELECT set_config('statement_timeout', $1, true)`, [String(options.statementTimeoutMs)]);
            if (options.signal?.aborted)
                throw new Error('cancelled before the refresh started (the worker is stopping or lost the job)');
            report = await runCycle(client, view.spec, plan, populated);
            durationMs = await finish(attemptId, 'refreshed', undefined, report);
            await client.query('COMMIT');
        }
        catch (err) {
            await client.query('ROLLBACK');
            const message = err instanceof Error ? err.message : String(err);
            return { view: view.name, outcome: 'failed', durationMs: await finish(attemptId, 'failed', message), watermark, error: message };
        }
        return { view: view.name, outcome: 'refreshed', durationMs, watermark, concurrently: populated, report };
    }
    finally {
        cancelling.stop();
        // The session goes back to the pool clean (no lock, default timeouts), so the next check reuses
        // a warm connection: a new session pays a few ms of catalog cache misses on the change key.
        // Anything that fails here, or a cancel sent to it, discards the connection instead.
        let clean = !cancelling.cancelled();
        try {
            // One round trip (simple protocol). The session holds no advisory lock but this one; unlocking
            // whether or not it was taken also covers a lock statement that failed after taking it.
            await client.query('SELECT pg_advisory_unlock_all(); RESET statement_timeout; RESET lock_timeout; RESET client_connection_check_interval; RESET jit');
        }
        catch {
            clean = false;
        }
        client.off('error', onError);
        client.release(!clean);
    }
}
export async function refreshViews(pool, views, options) {
    const results = [];
    for (const v of views)
        results.push(await refreshView(pool, v, options));
    return results;
}
//# sourceMappingURL=refresh-view.js.map