/**
 * A view's version as one API process knows it: read from the refresh log at most once per TTL, and
 * the view's recent-tier coverage, read once per version. Everything cached from a view is keyed by
 * this version, so a refresh reaches the answers within the TTL.
 */
import type { Executor } from '../db/executor.ts';
import { readFreshness, type ViewFreshness } from '../freshness/state.ts';
import { MAINTENANCE } from '../maintenance/sql.ts';
import { coverageOf, type Coverage, type RollupSpec } from './rollup.ts';

interface Known {
  readonly state: ViewFreshness;
  readonly at: number;
  coverage?: Promise<Coverage>;
}

/** Where the query's recent tiers start (an empty map for a query without one: no statement). */
export async function readCoverage(spec: RollupSpec, executor: Executor): Promise<Coverage> {
  if (!spec.levels.some((l) => l.recent?.length)) return new Map();
  const rows = await executor.query<{ fine_from: string | null }>({
    name: 'eventstats_fine_from',
    text: `SELECT fine_from FROM ${MAINTENANCE} WHERE view_name = $1`,
    values: [spec.view],
  });
  const fine = rows[0]?.fine_from;
  return coverageOf(spec, fine === undefined || fine === null ? null : Number(fine));
}

export class ViewStates {
  private readonly known = new Map<string, Known>();

  /** @param ttlMs how long a version read is trusted, in ms of wall clock (0: read on every call) */
  constructor(private readonly ttlMs: number) {}

  private async current(executor: Executor, view: string): Promise<Known> {
    const now = Date.now();
    // Each replica is at its own version: a version read on one says nothing of another's rows.
    const key = `${executor.origin?.().name ?? ''}|${view}`;
    const known = this.known.get(key);
    if (known && now - known.at < this.ttlMs) return known;
    const state = (await readFreshness(executor, [view])).get(view)!;
    // The same version keeps its coverage; a new one reads it again.
    const fresh: Known = known && known.state.version === state.version ? { ...known, state, at: now } : { state, at: now };
    this.known.set(key, fresh);
    return fresh;
  }

  /**
   * The view's refresh state and, once it has a version, its recent-tier coverage. A view never
   * refreshed has no version: nothing may be cached from it, and it has no coverage to read.
   */
  async read(executor: Executor, spec: RollupSpec): Promise<{ state: ViewFreshness; coverage: Coverage }> {
    const known = await this.current(executor, spec.view);
    if (known.state.version === null) return { state: known.state, coverage: new Map() };
    known.coverage ??= readCoverage(spec, executor);
    try {
      return { state: known.state, coverage: await known.coverage };
    } catch (err) {
      known.coverage = undefined;
      throw err;
    }
  }
}
