/**
 * The views' refresh state, read from eventstats.refresh_log: written by refresh, read by the
 * compiled queries (meta) and by /health.
 */
import type { Executor } from '../db/executor.ts';
import { TABLES } from '../db/tables.ts';

export interface ViewFreshness {
  readonly view: string;
  /** Finish time of the last successful refresh. */
  readonly refreshedAt: Date | null;
  /** Last time a refresh confirmed the source unchanged (or refreshed it). */
  readonly sourceCheckedAt: Date | null;
  readonly lastOutcome: string | null;
  readonly lastError: string | null;
}

export async function readFreshness(executor: Executor, views: readonly string[]): Promise<Map<string, ViewFreshness>> {
  const rows = await executor.query<{
    view: string;
    refreshed_at: Date | null;
    checked_at: Date | null;
    last_outcome: string | null;
    last_error: string | null;
  }>({
    text: `SELECT v.view,
       (SELECT finished_at FROM ${TABLES.refreshLog} l WHERE l.view_name = v.view AND l.outcome = 'refreshed' ORDER BY id DESC LIMIT 1) AS refreshed_at,
       (SELECT finished_at FROM ${TABLES.refreshLog} l WHERE l.view_name = v.view AND l.outcome IN ('refreshed', 'skipped') ORDER BY id DESC LIMIT 1) AS checked_at,
       last.outcome AS last_outcome, last.error AS last_error
  FROM unnest($1::text[]) AS v(view)
  LEFT JOIN LATERAL (SELECT outcome, error FROM ${TABLES.refreshLog} l
                      WHERE l.view_name = v.view ORDER BY id DESC LIMIT 1) last ON true`,
    values: [views],
  });
  return new Map(
    rows.map((r) => [
      r.view,
      {
        view: r.view,
        refreshedAt: r.refreshed_at,
        sourceCheckedAt: r.checked_at,
        lastOutcome: r.last_outcome,
        lastError: r.last_error,
      },
    ]),
  );
}

/** What a compiled-query read needs of its view: the version its data carries and its freshness. */
export interface ViewState {
  /** The refresh-log id the view's last refresh committed with; null when never refreshed. */
  readonly version: string | null;
  readonly refreshedAt: Date | null;
  readonly sourceCheckedAt: Date | null;
}

export async function readViewState(executor: Executor, view: string): Promise<ViewState> {
  const rows = await executor.query<{ version: string | null; refreshed_at: Date | null; checked_at: Date | null }>({
    name: 'eventstats_view_state',
    text: `SELECT r.id::text AS version, r.finished_at AS refreshed_at,
       (SELECT finished_at FROM ${TABLES.refreshLog} l WHERE l.view_name = $1 AND l.outcome IN ('refreshed', 'skipped') ORDER BY id DESC LIMIT 1) AS checked_at
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (SELECT id, finished_at FROM ${TABLES.refreshLog} l WHERE l.view_name = $1 AND l.outcome = 'refreshed' ORDER BY id DESC LIMIT 1) r ON true`,
    values: [view],
  });
  const r = rows[0];
  return { version: r?.version ?? null, refreshedAt: r?.refreshed_at ?? null, sourceCheckedAt: r?.checked_at ?? null };
}
