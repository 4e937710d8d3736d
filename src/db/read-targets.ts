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
import { DatabaseUnavailableError } from '../core/errors.ts';
import type { Executor, ReadOrigin, Standby } from './executor.ts';
import { isConnectionFailure, isRecoveryConflict } from './pg-errors.ts';
import type { SqlQuery } from './sql.ts';

export interface ReadTargetsOptions {
  /** A replica further behind than this (ms) is `lagging`: /health degrades and, with lagFallback 'primary', it takes no reads. */
  readonly maxLagMs: number;
  readonly lagFallback: 'primary' | 'none';
  /** When no replica can answer: 'primary' reads from the primary, 'none' answers 503. */
  readonly failover: 'primary' | 'none';
  /** How long a replica whose connection failed is left out before one request tries it again (ms). */
  readonly retryMs: number;
  readonly retryAfterSeconds: number;
  /** How often a replica's lag is measured (ms; default 1000). */
  readonly lagIntervalMs?: number;
}

export interface Replica {
  readonly name: string;
  readonly executor: Executor;
}

/** A replica's state for /health: statuses and numbers only. */
export interface ReplicaStatus {
  readonly name: string;
  readonly status: 'ok' | 'lagging' | 'down' | 'unknown';
  readonly lag_ms: number | null;
}

const REPLAY_LSN_TTL_MS = 200;

/** Lag: 0 while everything received is replayed (an idle primary is not lag), else the age of the last replayed commit. */
const LAG_SQL = `SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT NULL AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                             ELSE greatest(0, round(extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)) END::float8 AS lag_ms`;

class Target {
  downUntil = 0;
  lagMs: number | null = null;
  /** One lag measure at a time, reused for the interval the caller names (its ttl); the measure never rejects. */
  private readonly lag = new LRUCache<'lag', true, number>({ max: 1, fetchMethod: (_key, _old, { context }) => this.measureNow(context) });
  /** The replay position, read at most once per REPLAY_LSN_TTL_MS by one statement at a time. */
  private readonly replay = new LRUCache<'lsn', bigint>({
    max: 1,
    ttl: REPLAY_LSN_TTL_MS,
    fetchMethod: async (_key, previous) => {
      const rows = await this.executor.query<{ lsn: string | null }>({
        name: 'eventstats_replay_lsn',
        text: `SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::text AS lsn`,
        values: [],
      });
      const lsn = BigInt(rows[0]?.lsn ?? '0');
      // Replay only moves forward; a value read earlier stays a valid lower bound.
      return previous !== undefined && previous > lsn ? previous : lsn;
    },
  });
  readonly standby: Standby | undefined;

  constructor(
    readonly name: string,
    readonly database: 'primary' | 'replica',
    readonly executor: Executor,
    primary: Executor | undefined,
  ) {
    this.standby = primary && { primary, replayLsn: async () => (await this.replay.fetch('lsn'))! };
  }

  down(now: number): boolean {
    return now < this.downUntil;
  }

  /** Measures the lag when the last measure is older than `interval`; one measure at a time. */
  async measure(interval: number, retryMs: number): Promise<void> {
    // lru-cache reads a ttl of 0 as "never expires": an interval of 0 measures again after 1 ms.
    await this.lag.fetch('lag', { ttl: Math.max(1, interval), context: retryMs });
  }

  private async measureNow(retryMs: number): Promise<true> {
    try {
      const rows = await this.executor.query<{ lag_ms: number | null }>({ name: 'eventstats_replica_lag', text: LAG_SQL, values: [] });
      this.lagMs = rows[0]?.lag_ms ?? null;
      this.downUntil = 0;
    } catch (err) {
      this.lagMs = null;
      if (isConnectionFailure(err)) this.downUntil = Date.now() + retryMs;
    }
    return true;
  }

  origin(): ReadOrigin {
    return { database: this.database, name: this.name, lagMs: this.database === 'replica' ? this.lagMs : null, standby: this.standby };
  }
}

export class ReadTargets implements Executor {
  private readonly primary: Target;
  private readonly replicas: readonly Target[];
  private next = 0;

  constructor(
    primary: Executor,
    replicas: readonly Replica[],
    private readonly options: ReadTargetsOptions,
  ) {
    this.primary = new Target('primary', 'primary', primary, undefined);
    this.replicas = replicas.map((r) => new Target(r.name, 'replica', r.executor, primary));
  }

  private get lagInterval(): number {
    return this.options.lagIntervalMs ?? 1000;
  }

  private lagging(t: Target): boolean {
    return t.lagMs !== null && t.lagMs > this.options.maxLagMs;
  }

  /** The next database to read from, `except` those that just failed; throws when none may answer. */
  private async choose(except: ReadonlySet<Target>): Promise<Target> {
    if (this.replicas.length === 0) return this.primary;
    const now = Date.now();
    // Measure the lag of the replicas that are up (at most once per interval each).
    await Promise.all(this.replicas.filter((r) => !r.down(now) && !except.has(r)).map((r) => r.measure(this.lagInterval, this.options.retryMs)));
    const up = this.replicas.filter((r) => !r.down(Date.now()) && !except.has(r));
    const eligible = this.options.lagFallback === 'primary' ? up.filter((r) => !this.lagging(r)) : up;
    if (eligible.length) return eligible[this.next++ % eligible.length]!;
    // Only lagging replicas left: the lag fallback says the primary. None up: the failover decides.
    if (up.length || this.options.failover === 'primary') {
      if (!except.has(this.primary)) return this.primary;
    }
    throw new DatabaseUnavailableError('no read replica can answer', this.options.retryAfterSeconds);
  }

  /** Runs `q` on `target`, once more on a conflict with recovery. */
  private async run<R extends object>(target: Target, q: SqlQuery): Promise<R[]> {
    try {
      return await target.executor.query<R>(q);
    } catch (err) {
      if (!isRecoveryConflict(err)) throw err;
      return target.executor.query<R>(q);
    }
  }

  /** An executor for one request: its statements go to the database chosen now (or fail over together). */
  async session(): Promise<Executor> {
    let target = await this.choose(new Set());
    const query = async <R extends object>(q: SqlQuery): Promise<R[]> => {
      const failed = new Set<Target>();
      for (;;) {
        try {
          return await this.run<R>(target, q);
        } catch (err) {
          if (target.database !== 'replica' || !isConnectionFailure(err)) throw err;
          target.downUntil = Date.now() + this.options.retryMs;
          failed.add(target);
          target = await this.choose(failed);
        }
      }
    };
    return { query, origin: () => target.origin() };
  }

  /** One statement on whichever database would answer a request now. */
  async query<R extends object>(q: SqlQuery): Promise<R[]> {
    return (await this.session()).query<R>(q);
  }

  /** The replicas' state for /health (each measured at most once per interval); ok is false when one is lagging or down. */
  async status(): Promise<{ ok: boolean; replicas: ReplicaStatus[] }> {
    await Promise.all(this.replicas.filter((r) => !r.down(Date.now())).map((r) => r.measure(this.lagInterval, this.options.retryMs)));
    const now = Date.now();
    const replicas = this.replicas.map((r): ReplicaStatus => ({
      name: r.name,
      status: r.down(now) ? 'down' : r.lagMs === null ? 'unknown' : this.lagging(r) ? 'lagging' : 'ok',
      lag_ms: r.down(now) ? null : r.lagMs,
    }));
    return { ok: replicas.every((r) => r.status === 'ok'), replicas };
  }
}
