/**
 * The views' refresh state, read from eventstats.refresh_log: written by refresh, read by the
 * compiled queries (their version and meta, through the parts cache) and by /health.
 */
import type { Executor } from '../db/executor.ts';
import { TABLES } from '../db/tables.ts';

/** How a refresh of a view ended, as the refresh log and the metrics name it. */
export type Outcome = 'refreshed' | 'skipped' | 'failed' | 'coalesced';

export interface ViewFreshness {
  readonly view: string;
  /** The refresh-log id the view's last refresh committed with (the version the API caches parts under); null when never refreshed. */
  readonly version: string | null;
  /** Finish time of the last successful refresh. */
  readonly refreshedAt: Date | null;
  /** Last time a refresh confirmed the source unchanged (or refreshed it). */
  readonly sourceCheckedAt: Date | null;
  readonly lastOutcome: string | null;
  readonly lastError: string | null;
  /** Job ids the last successful refresh held back for writer transactions still open (counted once they commit); null when it did not say. */
  readonly heldBack?: number | null;
}

/**
 * A view's version (`view`: an SQL expression for its name): the id of the log row its last refresh
 * committed with, and whatever else of that row `columns` (of alias l) asks for.
 */
export const versionSql = (view: string, columns = 'l.id') =>
  `SELECT ${columns} FROM ${TABLES.refreshLog} l WHERE l.view_name = ${view} AND l.outcome = 'refreshed' ORDER BY l.id DESC LIMIT 1`;

/** One statement for any set of views; a view never refreshed reads as all nulls. */
export async function readFreshness(executor: Executor, views: readonly string[]): Promise<Map<string, ViewFreshness>> {
  const rows = await executor.query<{
    view: string;
    version: string | null;
    refreshed_at: Date | null;
    checked_at: Date | null;
    last_outcome: string | null;
    last_error: string | null;
    held_back: number | null;
  }>({
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
  return new Map(
    rows.map((r) => [
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
    ]),
  );
}
