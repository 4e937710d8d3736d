/**
 * The FROM clause (aliases as the spec's facts) of the facts a real-time read adds to history and
 * the view of `view` (a bound parameter): those past the watermark, and those held back (orphan
 * jobs whose run may have come since, and held-back jobs whose writer has committed since). A fact
 * whose run has not come yet is there too, with the run's columns NULL. Of those past the
 * watermark, only ids past `after` or in `pending` (SQL expressions: a bigint, and a bigint[] of ids
 * at or below it). A source without an entry cannot say (a change log): its queries answer as of
 * the last cycle.
 */
export const UNABSORBED = Object.freeze({
    runs(view, p, only) {
        // A function (migrations/1796040700000_realtime-reads.sql): planned once per session, not per read.
        const from = `eventstats.runs_unabsorbed(${p.add(view)}, ${only.after}::bigint, ${only.pending}::bigint[]) u` +
            ` CROSS JOIN LATERAL (SELECT (u.j).*) j CROSS JOIN LATERAL (SELECT (u.r).*) r`;
        return { from, id: 'u.id', orphan: 'u.held_back' };
    },
});
//# sourceMappingURL=unabsorbed.js.map