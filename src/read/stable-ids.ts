/**
 * The highest job id below which no writer is still at work, found without blocking anyone: what a
 * real-time read may cache its tail up to (src/read/tail.ts).
 *
 * Job ids come from a sequence, but writers commit out of id order, so "the highest id I can see"
 * may hide a lower id still in flight. Neither a reader nor the maintenance cycle (which reads the
 * same two things: src/maintenance/sources.ts) may block writers, so they wait for them instead, as
 * CREATE INDEX CONCURRENTLY does (WaitForLockers): every writer takes ROW EXCLUSIVE on the jobs table before its INSERT draws an
 * id and holds it to its commit. One probe reads the sequence's last value L, then the holders of
 * that lock H: whoever drew an id up to L is in H or has finished. A later probe that finds none of
 * H holding it any more makes L stable: every job up to L is committed (or never will be) and
 * visible to any snapshot taken after that probe. A reused lock holder id only delays this.
 *
 * Probes run at most every PROBE_INTERVAL_MS per process, as a statement of their own before a read
 * (reading pg_locks takes the lock manager's partition locks: not on every request).
 *
 * A probe also says whether nothing is in flight (quiet()): every id the sequence has drawn is stable
 * and no view has an orphan or held-back job. Then, until the sequence moves, the set of jobs is the
 * one every read since the stable id was confirmed saw, and no job waits for its run (a run without
 * jobs counts nowhere: every query joins runs to their jobs), so a real-time read may take its tail,
 * or a whole fixed window's answer, from what this process read before (src/read/parts.ts). Deletes
 * and updates reach real-time answers at the next cycle, as they always have (docs/ARCHITECTURE.md).
 *
 * On a streaming replica neither half of the probe holds: its pg_locks does not show the primary's
 * writers, and a sequence there reads the WAL-logged value (up to 32 ids ahead of those drawn). So
 * the probe always runs on the primary, and also reads the primary's WAL insert position when it
 * confirms a stable id: the writers it waited for committed before their locks went, so their
 * commit records lie below that position. A read on a replica uses a stable id only once the
 * replica's replay has passed the position it was confirmed at (the replica's later snapshots then
 * hold every job up to it); until then the read takes an older one, or reads the whole tail.
 */
import type { Executor, Standby } from '../db/executor.ts';
import { TABLES } from '../db/tables.ts';
import { HELD_BACK_JOBS, ORPHAN_JOBS } from '../rollup/layout.ts';

export const PROBE_INTERVAL_MS = 200;

/**
 * What the last probe found when nothing was in flight: the stable id, when that probe began (epoch
 * ms), and the newest refreshed refresh-log id (any view's: a cycle, which may apply deletes, moves it).
 */
export interface Quiet {
  readonly stable: number;
  readonly since: number;
  readonly cycle: string | null;
}
/** Stable ids remembered with the primary's WAL position at their confirmation, for replicas behind it. */
const CONFIRMED_KEPT = 64;

const SEQUENCE = `pg_get_serial_sequence('${TABLES.runsJobs}', 'internal_id')`;
const HOLDERS = `FROM pg_locks k WHERE k.locktype = 'relation' AND k.relation = '${TABLES.runsJobs}'::regclass
     AND k.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()) AND k.mode = 'RowExclusiveLock'`;

export class StableIds {
  /** Ids up to this are final (0: none known yet). */
  private stable = 0;
  private candidate: { readonly last: number; readonly holders: readonly string[] } | undefined;
  private probedAt = -Infinity;
  private probing: Promise<void> | undefined;
  /** Each stable id with the primary's WAL insert position when it was confirmed (ascending in both). */
  private confirmed: { readonly stable: number; readonly lsn: bigint }[] = [];
  /** Set by a probe that found every drawn id stable and no orphan or held-back job (see quiet()). */
  private still: Quiet | undefined;

  constructor(private readonly intervalMs = PROBE_INTERVAL_MS) {}

  /**
   * The stable id now for a read through `executor`; probes first when the last probe is older than
   * the interval. A read on a replica (executor.origin) gets the newest stable id its replay has passed.
   */
  async current(executor: Executor): Promise<number> {
    const standby = executor.origin?.().standby;
    if (Date.now() - this.probedAt >= this.intervalMs) {
      this.probing ??= this.probe(standby?.primary ?? executor).finally(() => (this.probing = undefined));
      // A probe that fails leaves the stable id where it was: reads are still exact, only less cached.
      await this.probing.catch(() => {});
    }
    return standby ? this.replayed(standby) : this.stable;
  }

  /**
   * The last probe's finding when nothing was in flight: every id the sequence had drawn was stable
   * (and so committed or gone, and seen by every read after the probe that confirmed it) and no view
   * had an orphan or held-back job. Undefined otherwise, or before any probe. Call after current().
   */
  quiet(): Quiet | undefined {
    return this.still;
  }

  /**
   * A read found a job past the stable id (committed since the probe): something is in flight after
   * all, so no read trusts the quiet finding until a probe makes it again. Without this, the next
   * poll could answer from the process without the job this read counted.
   */
  disturbed(): void {
    this.still = undefined;
  }

  private async replayed(standby: Standby): Promise<number> {
    let lsn: bigint;
    try {
      lsn = await standby.replayLsn();
    } catch {
      return 0; // nothing known of the replica's position: the read takes the whole tail
    }
    for (let i = this.confirmed.length - 1; i >= 0; i--) if (this.confirmed[i]!.lsn <= lsn) return this.confirmed[i]!.stable;
    return 0;
  }

  private async probe(executor: Executor): Promise<void> {
    const startedAt = Date.now();
    // The last finding stands while this probe is under way (reads keep answering from it, their
    // staleness_ms counting from when it began); a probe that fails says nothing of what is in flight.
    let rows: { last: string; holders: string[]; held: number; lsn: string; waiting: boolean; cycle: string | null }[];
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
    } catch (error) {
      this.still = undefined;
      throw error;
    }
    this.probedAt = Date.now();
    const row = rows[0]!;
    const last = Number(row.last);
    if (last < (this.candidate?.last ?? 0) || last < this.stable) {
      // The sequence went back (TRUNCATE ... RESTART IDENTITY, a restore): start over.
      this.stable = 0;
      this.confirmed = [];
    } else if (this.candidate && row.held === 0) {
      // The previous candidate's writers have all finished: its last value is stable from now on.
      this.stable = Math.max(this.stable, this.candidate.last);
      const lsn = BigInt(row.lsn);
      const top = this.confirmed.at(-1);
      if (!top || this.stable > top.stable) this.confirmed.push({ stable: this.stable, lsn });
      if (this.confirmed.length > CONFIRMED_KEPT) this.confirmed.shift();
    }
    this.candidate = { last, holders: row.holders };
    this.still = this.stable === last && !row.waiting ? { stable: this.stable, since: startedAt, cycle: row.cycle } : undefined;
  }
}
