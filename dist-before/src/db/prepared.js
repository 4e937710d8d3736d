import { isPreparedStatementError } from "./pg-errors.js";
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
export class PreparedStatements {
    max;
    byClient = new WeakMap();
    constructor(max = PREPARED_PER_CONNECTION) {
        this.max = max;
        if (!Number.isSafeInteger(max) || max < 1)
            throw new Error(`bad prepared statement bound: ${max}`);
    }
    /**
     * Before a statement runs on `client`, named `name` or unnamed: its plan cache mode, and for a name,
     * marks it the most recently used and, when the client would hold more than `max` names, DEALLOCATEs
     * the least recently used one.
     */
    async before(client, name) {
        let state = this.byClient.get(client);
        if (!state)
            this.byClient.set(client, (state = { names: new Map(), generic: false }));
        if (name === undefined) {
            if (state.generic) {
                await client.query(SESSION_PLANS);
                state.generic = false;
            }
            return;
        }
        if (!NAME.test(name))
            throw new Error(`bad statement name: ${name}`);
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
            const oldest = names.keys().next().value;
            names.delete(oldest);
            await this.deallocate(client, oldest);
        }
    }
    /** How many names a client holds. */
    held(client) {
        return this.byClient.get(client)?.names.size ?? 0;
    }
    async deallocate(client, name) {
        const parsed = client.connection.parsedStatements;
        // A name whose Parse failed (or was never sent) is not on the server.
        if (parsed[name] === undefined)
            return;
        delete parsed[name];
        try {
            await client.query(`DEALLOCATE "${name}"`);
        }
        catch (err) {
            // Already gone on the server: what we wanted.
            if (!isPreparedStatementError(err))
                throw err;
        }
    }
}
//# sourceMappingURL=prepared.js.map