import { TABLES } from "../db/tables.js";
/**
 * A view's version (`view`: an SQL expression for its name): the id of the log row its last refresh
 * committed with, and whatever else of that row `columns` (of alias l) asks for.
 */
export const versionSql = (view, columns = 'l.id') => `SELECT ${columns} FROM ${TABLES.refreshLog} l WHERE l.view_name = ${view} AND l.outcome = 'refreshed' ORDER BY l.id DESC LIMIT 1`;
/** One statement for any set of views; a view never refreshed reads as all nulls. */
export async function readFreshness(executor, views) {
    const rows = await executor.query({
        name: 'eventstats_freshness',
        text: `SELECT v.view, ok.id::text AS version, ok.finished_at AS refreshed_at, ok.held_back,
       (SELECT finished_at FROM ${TABLES.refreshLog} l WHERE l.view_name = v.view AND l.outcome IN ('refreshed', 'skipped') ORDER BY id DESC LIMIT 1) AS checked_at,
       last.outcome AS last_outcome, last.error AS last_error
  FROM unnest($1::text[]) AS v(view)
  LEFT JOIN LATERAL (${versionSql('v.view', "l.id, l.finished_at, (l.detail ->> 'heldBack')::int AS held_back")}) ok ON true
  LEFT JOIN LATERAL (SELECT outcome, error FROM ${TABLES.refreshLog} l
                      WHERE l.view_name = v.view ORDER BY id DESC LIMIT 1) last ON true`,
        values: [views],
    });
    return new Map(rows.map((r) => [
        r.view,
        {
            view: r.view,
            version: r.version,
            refreshedAt: r.refreshed_at,
            sourceCheckedAt: r.checked_at,
            lastOutcome: r.last_outcome,
            lastError: r.last_error,
            heldBack: r.held_back,
        },
    ]));
}
//# sourceMappingURL=refresh-log.js.map