/**
 * Named prepared statements: planned once per connection, and a bounded number of them.
 *
 * A named statement is parsed once per connection and its plan can be kept. PostgreSQL keeps a
 * custom plan (planned again at every execution) unless its generic plan's estimate is no worse, and
 * for the statements named here it always is worse on paper: the generic plan of a raw edge (runs in
 * `[$1, $2)`) is estimated at 0.5% of all runs, the custom plan at the minute the edge holds, so
 * PostgreSQL plans them again every time (0.13-0.47 ms at 1M jobs, against 0.01-0.02 ms for the
 * generic plan, which executes the same scans in the same time: docs/ARCHITECTURE.md, "Prepared
 * statements"). So a named statement runs under `plan_cache_mode = force_generic_plan` and every
 * other statement under the session's own setting: set per connection, and changed (one round trip)
 * only when a connection goes from one kind to the other. The setting cannot be given per statement.
 *
 * PostgreSQL keeps a session's prepared statements until the session ends or DEALLOCATE, and pg
 * remembers what each client has parsed for as long as the client lives. Read statements are named by
 * the hash of their text (src/read/parts-statement.ts), one name per request shape, and the shapes a
 * user can ask for are many (groupings, filters, row scopes, the number of edges): unbounded, a
 * connection would keep a plan for every shape it ever ran. So each connection keeps at most `max`
 * names, and the least recently used one is DEALLOCATEd (and forgotten by pg) before a new one is
 * parsed. A dashboard's few shapes stay prepared; a user sweeping shapes costs each connection at most
 * `max` plans, and one extra round trip per shape it evicts.
 */
import type pg from 'pg';
import { isPreparedStatementError } from './pg-errors.ts';

/** Names one API connection keeps prepared by default (DB_PREPARED_MAX). */
export const PREPARED_PER_CONNECTION = 32;

/** Statement names this module may put in a DEALLOCATE: the executor's callers only make these. */
const NAME = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * A named statement reads a window's edges (under an hour) and its real-time tail, so its generic
 * plan's estimates are blind in one direction only: at 10M jobs on PostgreSQL 15 the edges' generic
 * plan, estimated at 0.5% of the runs per edge (20,000 rows), gathered two parallel workers for 15
 * rows, 4-5 ms of worker start-up against 0.2-0.5 ms without them (docs/BENCHMARKS.md). So named
 * statements also run without parallel workers; every other statement keeps the session's settings.
 */
export const GENERIC_PLANS = 'SET plan_cache_mode = force_generic_plan; SET max_parallel_workers_per_gather = 0';
export const SESSION_PLANS = 'RESET plan_cache_mode; RESET max_parallel_workers_per_gather';

/** pg 8's record of what a connection has parsed (lib/query.js skips Parse for a name in it). */
interface ParsedStatements {
  readonly connection: { readonly parsedStatements: Record<string, string> };
}

interface ClientState {
  /** Its names in order of use (a Map keeps insertion order: the first key is the least recently used). */
  readonly names: Map<string, true>;
  /** Whether the session runs under GENERIC_PLANS now. */
  generic: boolean;
}

export class PreparedStatements {
  private readonly byClient = new WeakMap<pg.ClientBase, ClientState>();

  constructor(readonly max: number = PREPARED_PER_CONNECTION) {
    if (!Number.isSafeInteger(max) || max < 1) throw new Error(`bad prepared statement bound: ${max}`);
  }

  /**
   * Before a statement runs on `client`, named `name` or unnamed: its plan cache mode, and for a name,
   * marks it the most recently used and, when the client would hold more than `max` names, DEALLOCATEs
   * the least recently used one.
   */
  async before(client: pg.ClientBase, name: string | undefined): Promise<void> {
    let state = this.byClient.get(client);
    if (!state) this.byClient.set(client, (state = { names: new Map(), generic: false }));
    if (name === undefined) {
      if (state.generic) {
        await client.query(SESSION_PLANS);
        state.generic = false;
      }
      return;
    }
    if (!NAME.test(name)) throw new Error(`bad statement name: ${name}`);
    if (!state.generic) {
      await client.query(GENERIC_PLANS);
      state.generic = true;
    }
    const { names } = state;
    if (names.delete(name)) {
      names.set(name, true);
      return;
    }
    names.set(name, true);
    while (names.size > this.max) {
      const oldest = names.keys().next().value!;
      names.delete(oldest);
      await this.deallocate(client, oldest);
    }
  }

  /** How many names a client holds. */
  held(client: pg.ClientBase): number {
    return this.byClient.get(client)?.names.size ?? 0;
  }

  private async deallocate(client: pg.ClientBase, name: string): Promise<void> {
    const parsed = (client as unknown as ParsedStatements).connection.parsedStatements;
    // A name whose Parse failed (or was never sent) is not on the server.
    if (parsed[name] === undefined) return;
    delete parsed[name];
    try {
      await client.query(`DEALLOCATE "${name}"`);
    } catch (err) {
      // Already gone on the server: what we wanted.
      if (!isPreparedStatementError(err)) throw err;
    }
  }
}
