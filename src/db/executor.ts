import type pg from 'pg';
import { mapPgError } from './pg-errors.ts';
import type { SqlQuery } from './sql.ts';

/** The only way modules reach the database: one statement in, rows out, failures already mapped. */
export interface Executor {
  query<R extends object = Record<string, unknown>>(q: SqlQuery): Promise<R[]>;
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
