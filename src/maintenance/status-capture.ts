/**
 * How a cycle finds the status-change rows written since its last one without a trigger on the
 * gateway's upsert path (issue 25; docs/ARCHITECTURE.md "Maintenance", status_change).
 *
 * The gateway upserts one row per job (INSERT ... ON CONFLICT (job_id) DO UPDATE, created_at left as
 * it was, last_updated_at = greatest(the event's, the row's)). The triggers of
 * migrations/1796300000000_status-change-capture.sql record a row version (into
 * eventstats.status_change_deltas) only when its last_updated_at is older than its write's
 * clock_timestamp() minus STATUS_CAPTURE_MARGIN_MS, or when an update moves created_at; every other
 * version has last_updated_at >= c - margin, c being its write's clock. A cycle k reads, before its
 * snapshot and without a lock, the clock (readAt_k) and then the transactions holding ROW EXCLUSIVE
 * on the table (H_k), and keeps fromUs = min(readAt_k, since of every holder) - margin for cycle k+1,
 * which recomputes the created_at buckets of every row with last_updated_at >= fromUs (the index on
 * last_updated_at) and of every recorded version.
 *
 * Why that finds every change cycle k's snapshot did not see: such a version was written by a
 * transaction X that had not ended when H_k was read (a lock is released only after its transaction
 * has left the proc array, so one that had ended is seen by the snapshot taken after). Either X held
 * the lock then (X in H_k), or took it later, and so wrote the row at a clock c > readAt_k. A holder's
 * since is a clock no later than any of its writes: the readAt of the cycle before the first that saw
 * it (it did not hold the lock then; holding it continuously it would have been seen), or its
 * transaction's start when pg_stat_activity shows it, or unknown (null: the next scan reads every
 * row). So an unrecorded version has last_updated_at >= c - margin >= fromUs. Its bucket is that of
 * created_at, which no unrecorded update moves, so recomputing that bucket from the base table
 * counts the version and forgets the one it replaced. Assumes the writers' and the cycle's clocks
 * are one (one server) and never step back by more than the margin.
 */
import type pg from 'pg';
import { TABLES } from '../db/tables.ts';

/** How far behind its write's clock an upserted row's last_updated_at may be without a trigger recording it (the migration's interval). */
export const STATUS_CAPTURE_MARGIN_MS = 5 * 60_000;
const MARGIN_US = STATUS_CAPTURE_MARGIN_MS * 1000;

/** The capture's state of a view, kept in eventstats.maintenance.capture (times: µs since the epoch). */
export interface CaptureState {
  /** The clock read before the last cycle's holders and snapshot. */
  readonly readAtUs: number;
  /** The next cycle recomputes the buckets of the rows with last_updated_at at or after this; null: every row. */
  readonly fromUs: number | null;
  /** The writers on the table when the clock was read (pg_locks.virtualtransaction): a clock no later than any of their writes, or null (unknown). */
  readonly holders: Readonly<Record<string, number | null>>;
}

export interface Holder {
  readonly vxid: string;
  /** Its transaction's start (µs), when pg_stat_activity shows it to this role. */
  readonly xactStartUs: number | null;
}

export function parseCapture(value: unknown): CaptureState | null {
  if (value === null || value === undefined) return null;
  const v = (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown>;
  const int = (x: unknown) => (x === null || x === undefined ? null : Number(x));
  return {
    readAtUs: Number(v.readAtUs),
    fromUs: int(v.fromUs),
    holders: Object.fromEntries(Object.entries((v.holders ?? {}) as Record<string, unknown>).map(([k, s]) => [k, int(s)])),
  };
}

/** The state after a cycle whose clock and holders (read in that order, before its snapshot) were these. */
export function nextCapture(previous: CaptureState | null, readAtUs: number, holders: readonly Holder[]): CaptureState {
  const since: Record<string, number | null> = {};
  for (const h of holders) {
    if (previous && h.vxid in previous.holders) {
      since[h.vxid] = previous.holders[h.vxid]!;
      continue;
    }
    // Not a holder when the previous clock was read: it took the lock after that.
    const bounds = [h.xactStartUs, previous?.readAtUs ?? null].filter((b): b is number => b !== null);
    since[h.vxid] = bounds.length ? Math.max(...bounds) : null;
  }
  const values = Object.values(since);
  const fromUs = values.includes(null) ? null : Math.min(readAtUs, ...(values as number[])) - MARGIN_US;
  return { readAtUs, fromUs, holders: since };
}

/** The writers on the status-change table (pg_locks, as src/maintenance/sources.ts reads those of the jobs table). */
const STATUS_WRITERS = `FROM pg_locks k LEFT JOIN pg_stat_activity a ON a.pid = k.pid
  WHERE k.locktype = 'relation' AND k.relation = '${TABLES.statusChange}'::regclass
    AND k.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()) AND k.mode = 'RowExclusiveLock'
    AND k.pid IS DISTINCT FROM pg_backend_pid()`;

/** Reads the clock, then the holders (one statement: the holders' subquery depends on the clock), and returns the next state. */
export async function readCapture(client: pg.ClientBase, previous: CaptureState | null): Promise<CaptureState> {
  const { rows } = await client.query<{ read_at: string; holders: { vxid: string; start: string | null }[] | null }>(
    `WITH c AS MATERIALIZED (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS us)
     SELECT c.us::text AS read_at,
            (SELECT json_agg(json_build_object('vxid', k.virtualtransaction, 'start', (extract(epoch FROM a.xact_start) * 1000000)::bigint::text))
               ${STATUS_WRITERS} AND c.us IS NOT NULL) AS holders
       FROM c`,
  );
  const holders = new Map<string, number | null>();
  for (const h of rows[0]!.holders ?? []) {
    const start = h.start === null ? null : Number(h.start);
    // One transaction may show several lock rows (fast path and shared): the earliest start it shows.
    const had = holders.get(h.vxid);
    holders.set(h.vxid, had === undefined ? start : had === null ? start : start === null ? had : Math.min(had, start));
  }
  return nextCapture(previous, Number(rows[0]!.read_at), [...holders].map(([vxid, xactStartUs]) => ({ vxid, xactStartUs })));
}

/** An SQL timestamptz of a µs bound (a parameter), or -infinity for null. */
export const boundSql = (param: string) => `coalesce('epoch'::timestamptz + ${param}::bigint * interval '1 microsecond', '-infinity'::timestamptz)`;
