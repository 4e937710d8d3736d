import type pg from 'pg';
import { mapPgError } from './pg-errors.ts';
import type { SqlQuery } from './sql.ts';

/** The only way modules reach the database: one statement in, rows out, failures already mapped. */
export interface Executor {
  query<R extends object = Record<string, unknown>>(q: SqlQuery): Promise<R[]>;
  /**
   * With read replicas (src/db/read-targets.ts): an executor whose statements all go to one database
   * (chosen now), for one request. Absent: every statement goes to this executor's one database.
   */
  readonly session?: () => Promise<Executor>;
  /** Which database a session's statements went to (the last one); absent: the one database. */
  readonly origin?: () => ReadOrigin;
}

/** The database a read session answered from. */
export interface ReadOrigin {
  readonly database: 'primary' | 'replica';
  /** Names the replica among DATABASE_READ_URL's (e.g. `replica 1`); `primary` for the primary. */
  readonly name: string;
  /** The replica's replay lag as last measured (at most a second old), in ms; null on the primary or when unknown. */
  readonly lagMs: number | null;
  /** On a replica: what a standby cannot tell itself (the stable-id probe, src/queries/stable-ids.ts). */
  readonly standby?: Standby;
}

export interface Standby {
  /** The primary, where writers' locks and the sequence's true position are seen. */
  readonly primary: Executor;
  /** The standby's replay position (an LSN as a number), read at most every 200 ms: a lower bound of what its later snapshots hold. */
  replayLsn(): Promise<bigint>;
}

export function createExecutor(pool: pg.Pool, retryAfterSeconds: number): Executor {
  return {
    async query<R extends object>(q: SqlQuery): Promise<R[]> {
      try {
        const res = await pool.query<R>({ text: q.text, values: q.values as unknown[], name: q.name });
        return res.rows;
      } catch (err) {
        throw mapPgError(err, retryAfterSeconds);
      }
    },
  };
}
