/**
 * The highest job id below which no writer is still at work, found without blocking anyone: what a
 * real-time read may cache its tail up to (src/queries/tail.ts).
 *
 * Job ids come from a sequence, but writers commit out of id order, so "the highest id I can see"
 * may hide a lower id still in flight. The maintenance cycle drains with a short EXCLUSIVE lock; a
 * reader must not block writers, so it waits for them instead, as CREATE INDEX CONCURRENTLY does
 * (WaitForLockers): every writer takes ROW EXCLUSIVE on the jobs table before its INSERT draws an
 * id and holds it to its commit. One probe reads the sequence's last value L, then the holders of
 * that lock H: whoever drew an id up to L is in H or has finished. A later probe that finds none of
 * H holding it any more makes L stable: every job up to L is committed (or never will be) and
 * visible to any snapshot taken after that probe. A reused lock holder id only delays this.
 *
 * Probes run at most every PROBE_INTERVAL_MS per process, as a statement of their own before a read
 * (reading pg_locks takes the lock manager's partition locks: not on every request).
 */
import type { Executor } from '../db/executor.ts';
import { TABLES } from '../db/tables.ts';

export const PROBE_INTERVAL_MS = 200;

const SEQUENCE = `pg_get_serial_sequence('${TABLES.runsJobs}', 'internal_id')`;
const HOLDERS = `FROM pg_locks k WHERE k.locktype = 'relation' AND k.relation = '${TABLES.runsJobs}'::regclass
     AND k.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()) AND k.mode = 'RowExclusiveLock'`;

export class StableIds {
  /** Ids up to this are final (0: none known yet). */
  private stable = 0;
  private candidate: { readonly last: number; readonly holders: readonly string[] } | undefined;
  private probedAt = -Infinity;
  private probing: Promise<void> | undefined;

  constructor(private readonly intervalMs = PROBE_INTERVAL_MS) {}

  /** The stable id now; probes first when the last probe is older than the interval. */
  async current(executor: Executor): Promise<number> {
    if (Date.now() - this.probedAt >= this.intervalMs) {
      this.probing ??= this.probe(executor).finally(() => (this.probing = undefined));
      // A probe that fails leaves the stable id where it was: reads are still exact, only less cached.
      await this.probing.catch(() => {});
    }
    return this.stable;
  }

  private async probe(executor: Executor): Promise<void> {
    const rows = await executor.query<{ last: string; holders: string[]; held: number }>({
      name: 'eventstats_stable_ids',
      // The last value before the holders: the holders' subquery depends on it, so it is read after.
      text: `WITH l AS MATERIALIZED (SELECT coalesce(pg_sequence_last_value(${SEQUENCE}::regclass), 0) AS last)
             SELECT l.last::text AS last,
                    (SELECT coalesce(array_agg(DISTINCT k.virtualtransaction), '{}') ${HOLDERS} AND l.last IS NOT NULL) AS holders,
                    (SELECT count(*)::int ${HOLDERS} AND k.virtualtransaction = ANY($1::text[])) AS held
               FROM l`,
      values: [this.candidate?.holders ?? []],
    });
    this.probedAt = Date.now();
    const row = rows[0]!;
    const last = Number(row.last);
    if (last < (this.candidate?.last ?? 0) || last < this.stable) {
      // The sequence went back (TRUNCATE ... RESTART IDENTITY, a restore): start over.
      this.stable = 0;
    } else if (this.candidate && row.held === 0) {
      // The previous candidate's writers have all finished: its last value is stable from now on.
      this.stable = Math.max(this.stable, this.candidate.last);
    }
    this.candidate = { last, holders: row.holders };
  }
}
