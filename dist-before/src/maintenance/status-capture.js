import { TABLES } from "../db/tables.js";
/** How far behind its write's clock an upserted row's last_updated_at may be without a trigger recording it (the migration's interval). */
export const STATUS_CAPTURE_MARGIN_MS = 5 * 60_000;
const MARGIN_US = STATUS_CAPTURE_MARGIN_MS * 1000;
export function parseCapture(value) {
    if (value === null || value === undefined)
        return null;
    const v = (typeof value === 'string' ? JSON.parse(value) : value);
    const int = (x) => (x === null || x === undefined ? null : Number(x));
    return {
        readAtUs: Number(v.readAtUs),
        fromUs: int(v.fromUs),
        holders: Object.fromEntries(Object.entries((v.holders ?? {})).map(([k, s]) => [k, int(s)])),
    };
}
/** The state after a cycle whose clock and holders (read in that order, before its snapshot) were these. */
export function nextCapture(previous, readAtUs, holders) {
    const since = {};
    for (const h of holders) {
        if (previous && h.vxid in previous.holders) {
            since[h.vxid] = previous.holders[h.vxid];
            continue;
        }
        // Not a holder when the previous clock was read: it took the lock after that.
        const bounds = [h.xactStartUs, previous?.readAtUs ?? null].filter((b) => b !== null);
        since[h.vxid] = bounds.length ? Math.max(...bounds) : null;
    }
    const values = Object.values(since);
    const fromUs = values.includes(null) ? null : Math.min(readAtUs, ...values) - MARGIN_US;
    return { readAtUs, fromUs, holders: since };
}
/** The writers on the status-change table (pg_locks, as src/maintenance/sources.ts reads those of the jobs table). */
const STATUS_WRITERS = `FROM pg_locks k LEFT JOIN pg_stat_activity a ON a.pid = k.pid
  WHERE k.locktype = 'relation' AND k.relation = '${TABLES.statusChange}'::regclass
    AND k.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()) AND k.mode = 'RowExclusiveLock'
    AND k.pid IS DISTINCT FROM pg_backend_pid()`;
/** Reads the clock, then the holders (one statement: the holders' subquery depends on the clock), and returns the next state. */
export async function readCapture(client, previous) {
    const { rows } = await client.query(`WITH c AS MATERIALIZED (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS us)
     SELECT c.us::text AS read_at,
            (SELECT json_agg(json_build_object('vxid', k.virtualtransaction, 'start', (extract(epoch FROM a.xact_start) * 1000000)::bigint::text))
               ${STATUS_WRITERS} AND c.us IS NOT NULL) AS holders
       FROM c`);
    const holders = new Map();
    for (const h of rows[0].holders ?? []) {
        const start = h.start === null ? null : Number(h.start);
        // One transaction may show several lock rows (fast path and shared): the earliest start it shows.
        const had = holders.get(h.vxid);
        holders.set(h.vxid, had === undefined ? start : had === null ? start : start === null ? had : Math.min(had, start));
    }
    return nextCapture(previous, Number(rows[0].read_at), [...holders].map(([vxid, xactStartUs]) => ({ vxid, xactStartUs })));
}
/** An SQL timestamptz of a µs bound (a parameter), or -infinity for null. */
export const boundSql = (param) => `coalesce('epoch'::timestamptz + ${param}::bigint * interval '1 microsecond', '-infinity'::timestamptz)`;
//# sourceMappingURL=status-capture.js.map