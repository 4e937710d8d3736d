/**
 * Where the API's reads go when DATABASE_READ_URL lists streaming replicas: round-robin over the
 * replicas that can answer, each request pinned to one of them (its version read, its parts and its
 * tail then come from one database), the primary only as configured.
 *
 * - A replica whose connection fails (refused, unreachable, shut down) is out for `retryMs`, then
 *   one request tries it again; the failed statement is run again at once on another replica, or
 *   on the primary with `failover: 'primary'`. A read is a SELECT: running it twice is harmless.
 * - A replica's replay lag is measured at most once per `lagIntervalMs` (not per request). Past
 *   `maxLagMs` it is reported by /health and, with `lagFallback: 'primary'`, takes no reads until
 *   it is back under the bound (other replicas first, then the primary).
 * - A read cancelled by a conflict with recovery (replay needed what it read) is run once more,
 *   then answered 503 `database` with Retry-After (src/db/pg-errors.ts).
 */
import { LRUCache } from 'lru-cache';
import { DatabaseUnavailableError } from "../core/errors.js";
import { isConnectionFailure, isRecoveryConflict } from "./pg-errors.js";
const REPLAY_LSN_TTL_MS = 200;
/** Lag: 0 while everything received is replayed (an idle primary is not lag), else the age of the last replayed commit. */
const LAG_SQL = `SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT NULL AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                             ELSE greatest(0, round(extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)) END::float8 AS lag_ms`;
class Target {
    name;
    database;
    executor;
    downUntil = 0;
    lagMs = null;
    /** One lag measure at a time, reused for the interval the caller names (its ttl); the measure never rejects. */
    lag = new LRUCache({ max: 1, fetchMethod: (_key, _old, { context }) => this.measureNow(context) });
    /** The replay position, read at most once per REPLAY_LSN_TTL_MS by one statement at a time. */
    replay = new LRUCache({
        max: 1,
        ttl: REPLAY_LSN_TTL_MS,
        fetchMethod: async (_key, previous) => {
            const rows = await this.executor.query({
                name: 'eventstats_replay_lsn',
                text: `SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::text AS lsn`,
                values: [],
            });
            const lsn = BigInt(rows[0]?.lsn ?? '0');
            // Replay only moves forward; a value read earlier stays a valid lower bound.
            return previous !== undefined && previous > lsn ? previous : lsn;
        },
    });
    standby;
    constructor(name, database, executor, primary) {
        this.name = name;
        this.database = database;
        this.executor = executor;
        this.standby = primary && { primary, replayLsn: async () => (await this.replay.fetch('lsn')) };
    }
    down(now) {
        return now < this.downUntil;
    }
    /** Measures the lag when the last measure is older than `interval`; one measure at a time. */
    async measure(interval, retryMs) {
        // lru-cache reads a ttl of 0 as "never expires": an interval of 0 measures again after 1 ms.
        await this.lag.fetch('lag', { ttl: Math.max(1, interval), context: retryMs });
    }
    async measureNow(retryMs) {
        try {
            const rows = await this.executor.query({ name: 'eventstats_replica_lag', text: LAG_SQL, values: [] });
            this.lagMs = rows[0]?.lag_ms ?? null;
            this.downUntil = 0;
        }
        catch (err) {
            this.lagMs = null;
            if (isConnectionFailure(err))
                this.downUntil = Date.now() + retryMs;
        }
        return true;
    }
    origin() {
        return { database: this.database, name: this.name, lagMs: this.database === 'replica' ? this.lagMs : null, standby: this.standby };
    }
}
export class ReadTargets {
    options;
    primary;
    replicas;
    next = 0;
    constructor(primary, replicas, options) {
        this.options = options;
        this.primary = new Target('primary', 'primary', primary, undefined);
        this.replicas = replicas.map((r) => new Target(r.name, 'replica', r.executor, primary));
    }
    get lagInterval() {
        return this.options.lagIntervalMs ?? 1000;
    }
    lagging(t) {
        return t.lagMs !== null && t.lagMs > this.options.maxLagMs;
    }
    /** The next database to read from, `except` those that just failed; throws when none may answer. */
    async choose(except) {
        if (this.replicas.length === 0)
            return this.primary;
        const now = Date.now();
        // Measure the lag of the replicas that are up (at most once per interval each).
        await Promise.all(this.replicas.filter((r) => !r.down(now) && !except.has(r)).map((r) => r.measure(this.lagInterval, this.options.retryMs)));
        const up = this.replicas.filter((r) => !r.down(Date.now()) && !except.has(r));
        const eligible = this.options.lagFallback === 'primary' ? up.filter((r) => !this.lagging(r)) : up;
        if (eligible.length)
            return eligible[this.next++ % eligible.length];
        // Only lagging replicas left: the lag fallback says the primary. None up: the failover decides.
        if (up.length || this.options.failover === 'primary') {
            if (!except.has(this.primary))
                return this.primary;
        }
        throw new DatabaseUnavailableError('no read replica can answer', this.options.retryAfterSeconds);
    }
    /** Runs `q` on `target`, once more on a conflict with recovery. */
    async run(target, q) {
        try {
            return await target.executor.query(q);
        }
        catch (err) {
            if (!isRecoveryConflict(err))
                throw err;
            return target.executor.query(q);
        }
    }
    /** An executor for one request: its statements go to the database chosen now (or fail over together). */
    async session() {
        let target = await this.choose(new Set());
        const query = async (q) => {
            const failed = new Set();
            for (;;) {
                try {
                    return await this.run(target, q);
                }
                catch (err) {
                    if (target.database !== 'replica' || !isConnectionFailure(err))
                        throw err;
                    target.downUntil = Date.now() + this.options.retryMs;
                    failed.add(target);
                    target = await this.choose(failed);
                }
            }
        };
        return { query, origin: () => target.origin() };
    }
    /** One statement on whichever database would answer a request now. */
    async query(q) {
        return (await this.session()).query(q);
    }
    /** The replicas' state for /health (each measured at most once per interval); ok is false when one is lagging or down. */
    async status() {
        await Promise.all(this.replicas.filter((r) => !r.down(Date.now())).map((r) => r.measure(this.lagInterval, this.options.retryMs)));
        const now = Date.now();
        const replicas = this.replicas.map((r) => ({
            name: r.name,
            status: r.down(now) ? 'down' : r.lagMs === null ? 'unknown' : this.lagging(r) ? 'lagging' : 'ok',
            lag_ms: r.down(now) ? null : r.lagMs,
        }));
        return { ok: replicas.every((r) => r.status === 'ok'), replicas };
    }
}
//# sourceMappingURL=read-targets.js.map