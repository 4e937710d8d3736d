/**
 * The read half of a fact source: how a real-time read finds the facts the view of a query has not
 * absorbed yet. The write half (how a cycle bounds, seals and applies changes) is
 * src/maintenance/sources.ts; both follow the same refresh-log contract (the view's watermark and
 * held-back ids in eventstats.maintenance and eventstats.held_back_jobs).
 */
import type { Params } from '../db/sql.ts';
import type { SourceName } from './spec.ts';

/** Where a real-time read's tail comes from, for one source. */
export interface UnabsorbedFacts {
  /** The FROM clause (aliases as the spec's facts): see unabsorbedFrom. */
  readonly from: string;
  /** Each fact's id. */
  readonly id: string;
  /** Whether the fact is held back (an orphan job, or a job of a writer a cycle held back). */
  readonly orphan: string;
}

/**
 * The FROM clause (aliases as the spec's facts) of the facts a real-time read adds to history and
 * the view of `view` (a bound parameter): those past the watermark, and those held back (orphan
 * jobs whose run may have come since, and held-back jobs whose writer has committed since). A fact
 * whose run has not come yet is there too, with the run's columns NULL. Of those past the
 * watermark, only ids past `after` or in `pending` (SQL expressions: a bigint, and a bigint[] of ids
 * at or below it). A source without an entry cannot say (a change log): its queries answer as of
 * the last cycle.
 */
export const UNABSORBED: Readonly<Partial<Record<SourceName, (view: string, p: Params, only: { after: string; pending: string }) => UnabsorbedFacts>>> = Object.freeze({
  runs(view, p, only) {
    // A function (migrations/1796040700000_realtime-reads.sql): planned once per session, not per read.
    const from =
      `eventstats.runs_unabsorbed(${p.add(view)}, ${only.after}::bigint, ${only.pending}::bigint[]) u` +
      ` CROSS JOIN LATERAL (SELECT (u.j).*) j CROSS JOIN LATERAL (SELECT (u.r).*) r`;
    return { from, id: 'u.id', orphan: 'u.held_back' };
  },
});
