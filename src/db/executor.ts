import type pg from 'pg';
import { isPreparedStatementError, mapPgError } from './pg-errors.ts';
import { PreparedStatements } from './prepared.ts';
import { beginStatement, SessionMode, type SessionSettings } from './session-mode.ts';
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
  /** On a replica: what a standby cannot tell itself (the stable-id probe, src/read/stable-ids.ts). */
  readonly standby?: Standby;
}

export interface Standby {
  /** The primary, where writers' locks and the sequence's true position are seen. */
  readonly primary: Executor;
  /** The standby's replay position (an LSN as a number), read at most every 200 ms: a lower bound of what its later snapshots hold. */
  replayLsn(): Promise<bigint>;
}

export interface ExecutorOptions {
  readonly retryAfterSeconds: number;
  /** How statements run (src/db/session-mode.ts); without one, as `none`: the pool's own settings, named statements. */
  readonly session?: SessionMode;
  /** The settings the `transaction` mode applies with SET LOCAL. */
  readonly settings?: SessionSettings;
  /** Told of each lost or duplicate prepared statement that is retried (a warning, a test's count). */
  readonly onRetry?: (err: unknown) => void;
  /** Test hook: keep statement names even in the `transaction` mode (what a pooler must survive). */
  readonly forceNamed?: boolean;
  /**
   * Named statements one connection keeps prepared, each planned once, least recently used out
   * (src/db/prepared.ts; the API's DB_PREPARED_MAX); 0: every statement unnamed. Absent: names as
   * given, on the pool, under the session's plan settings (for pools whose connections other code
   * uses too: the plan setting is per session).
   */
  readonly preparedMax?: number;
}

/**
 * While a client is checked out the pool listens for none of its errors: a connection the server
 * ends between two of our statements (a restart, pg_terminate_backend: 57P01) would emit an
 * 'error' nobody handles, and the process would exit. Noted instead (the client is then released
 * as broken, and the next statement on it fails and is mapped to 503); returns the unsubscribe.
 */
function watchCheckedOut(client: pg.PoolClient, note: (err: Error) => void): () => void {
  client.on('error', note);
  return () => client.off('error', note);
}

/** One statement in a transaction of its own, its settings applied by SET LOCAL, on one client. */
async function inTransaction<R extends object>(pool: pg.Pool, begin: string, config: pg.QueryConfig): Promise<R[]> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const lost = watchCheckedOut(client, (err) => (broken ??= err));
  try {
    await client.query(begin);
    const res = await client.query<R>(config);
    await client.query('COMMIT');
    return res.rows;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackFailed) {
      // The connection is gone or unusable: the pool must not hand it out again.
      broken = rollbackFailed as Error;
    }
    throw err;
  } finally {
    lost();
    client.release(broken);
  }
}

/**
 * A statement on a client of its own: named ones planned once and kept to a bounded number per
 * connection, unnamed ones under the session's plan settings (src/db/prepared.ts).
 */
async function onClient<R extends object>(pool: pg.Pool, prepared: PreparedStatements, config: pg.QueryConfig): Promise<R[]> {
  const client = await pool.connect();
  let failed: Error | undefined;
  const lost = watchCheckedOut(client, (err) => (failed ??= err));
  try {
    await prepared.before(client, config.name);
    return (await client.query<R>(config)).rows;
  } catch (err) {
    // As pool.query does: a client whose statement failed is not handed out again.
    failed = err as Error;
    throw err;
  } finally {
    lost();
    client.release(failed);
  }
}

export function createExecutor(pool: pg.Pool, options: number | ExecutorOptions): Executor {
  const o: ExecutorOptions = typeof options === 'number' ? { retryAfterSeconds: options } : options;
  const begin = o.settings ? beginStatement(o.settings) : 'BEGIN';
  const prepared = o.preparedMax ? new PreparedStatements(o.preparedMax) : undefined;
  const run = async <R extends object>(q: SqlQuery, named: boolean): Promise<R[]> => {
    const mode = o.session ? await o.session.settle() : 'none';
    const name = named && o.preparedMax !== 0 && (mode === 'none' || o.forceNamed) ? q.name : undefined;
    const config = { text: q.text, values: q.values as unknown[], name };
    // The `transaction` mode names statements only under the test hook: their server connection is any.
    if (mode === 'transaction') return inTransaction<R>(pool, begin, config);
    if (!prepared) return (await pool.query<R>(config)).rows;
    return onClient<R>(pool, prepared, config);
  };
  return {
    async query<R extends object>(q: SqlQuery): Promise<R[]> {
      try {
        try {
          return await run<R>(q, true);
        } catch (err) {
          // A named statement the server connection does not know, or already knows under that name:
          // it was parsed on another server connection (a transaction pooler between us). Once more,
          // unnamed; a second failure is a 503 (mapPgError), never a 500.
          if (!isPreparedStatementError(err)) throw err;
          o.onRetry?.(err);
          return await run<R>(q, false);
        }
      } catch (err) {
        throw mapPgError(err, o.retryAfterSeconds);
      }
    },
  };
}
