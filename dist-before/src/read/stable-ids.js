import { TABLES } from "../db/tables.js";
import { HELD_BACK_JOBS, ORPHAN_JOBS } from "../rollup/layout.js";
export const PROBE_INTERVAL_MS = 200;
/** Stable ids remembered with the primary's WAL position at their confirmation, for replicas behind it. */
const CONFIRMED_KEPT = 64;
const SEQUENCE = `pg_get_serial_sequence('${TABLES.runsJobs}', 'internal_id')`;
const HOLDERS = `FROM pg_locks k WHERE k.locktype = 'relation' AND k.relation = '${TABLES.runsJobs}'::regclass
     AND k.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()) AND k.mode = 'RowExclusiveLock'`;
export class StableIds {
    intervalMs;
    /** Ids up to this are final (0: none known yet). */
    stable = 0;
    candidate;
    probedAt = -Infinity;
    probing;
    /** Each stable id with the primary's WAL insert position when it was confirmed (ascending in both). */
    confirmed = [];
    /** Set by a probe that found every drawn id stable and no orphan or held-back job (see quiet()). */
    still;
    constructor(intervalMs = PROBE_INTERVAL_MS) {
        this.intervalMs = intervalMs;
    }
    /**
     * The stable id now for a read through `executor`; probes first when the last probe is older than
     * the interval. A read on a replica (executor.origin) gets the newest stable id its replay has passed.
     */
    async current(executor) {
        const standby = executor.origin?.().standby;
        if (Date.now() - this.probedAt >= this.intervalMs) {
            this.probing ??= this.probe(standby?.primary ?? executor).finally(() => (this.probing = undefined));
            // A probe that fails leaves the stable id where it was: reads are still exact, only less cached.
            await this.probing.catch(() => { });
        }
        return standby ? this.replayed(standby) : this.stable;
    }
    /**
     * The last probe's finding when nothing was in flight: every id the sequence had drawn was stable
     * (and so committed or gone, and seen by every read after the probe that confirmed it) and no view
     * had an orphan or held-back job. Undefined otherwise, or before any probe. Call after current().
     */
    quiet() {
        return this.still;
    }
    /**
     * A read found a job past the stable id (committed since the probe): something is in flight after
     * all, so no read trusts the quiet finding until a probe makes it again. Without this, the next
     * poll could answer from the process without the job this read counted.
     */
    disturbed() {
        this.still = undefined;
    }
    async replayed(standby) {
        let lsn;
        try {
            lsn = await standby.replayLsn();
        }
        catch {
            return 0; // nothing known of the replica's position: the read takes the whole tail
        }
        for (let i = this.confirmed.length - 1; i >= 0; i--)
            if (this.confirmed[i].lsn <= lsn)
                return this.confirmed[i].stable;
        return 0;
    }
    async probe(executor) {
        const startedAt = Date.now();
        // The last finding stands while this probe is under way (reads keep answering from it, their
        // staleness_ms counting from when it began); a probe that fails says nothing of what is in flight.
        let rows;
        try {
            rows = await executor.query({
                name: 'eventstats_stable_ids',
                // The last value before the holders: the holders' subquery depends on it, so it is read after.
                text: `WITH l AS MATERIALIZED (SELECT coalesce(pg_sequence_last_value(${SEQUENCE}::regclass), 0) AS last)
             SELECT l.last::text AS last,
                    (SELECT coalesce(array_agg(DISTINCT k.virtualtransaction), '{}') ${HOLDERS} AND l.last IS NOT NULL) AS holders,
                    h.held,
                    -- After the holders are read: their commit records are below it.
                    (CASE WHEN h.held >= 0 THEN pg_current_wal_insert_lsn() END - '0/0'::pg_lsn)::text AS lsn,
                    -- Jobs a cycle could not absorb yet (a run to come, a writer that was open).
                    EXISTS (SELECT 1 FROM ${ORPHAN_JOBS}) OR EXISTS (SELECT 1 FROM ${HELD_BACK_JOBS}) AS waiting,
                    (SELECT c.id::text FROM ${TABLES.refreshLog} c WHERE c.outcome = 'refreshed' ORDER BY c.id DESC LIMIT 1) AS cycle
               FROM l, LATERAL (SELECT count(*)::int AS held ${HOLDERS} AND k.virtualtransaction = ANY($1::text[]) OFFSET 0) h`,
                values: [this.candidate?.holders ?? []],
            });
        }
        catch (error) {
            this.still = undefined;
            throw error;
        }
        this.probedAt = Date.now();
        const row = rows[0];
        const last = Number(row.last);
        if (last < (this.candidate?.last ?? 0) || last < this.stable) {
            // The sequence went back (TRUNCATE ... RESTART IDENTITY, a restore): start over.
            this.stable = 0;
            this.confirmed = [];
        }
        else if (this.candidate && row.held === 0) {
            // The previous candidate's writers have all finished: its last value is stable from now on.
            this.stable = Math.max(this.stable, this.candidate.last);
            const lsn = BigInt(row.lsn);
            const top = this.confirmed.at(-1);
            if (!top || this.stable > top.stable)
                this.confirmed.push({ stable: this.stable, lsn });
            if (this.confirmed.length > CONFIRMED_KEPT)
                this.confirmed.shift();
        }
        this.candidate = { last, holders: row.holders };
        this.still = this.stable === last && !row.waiting ? { stable: this.stable, since: startedAt, cycle: row.cycle } : undefined;
    }
}
//# sourceMappingURL=stable-ids.js.map