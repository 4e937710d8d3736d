/**
 * The parts cache with a scripted executor: which statements a read issues, and when. Whether the
 * merged answers are right is proven against the oracle in test/integration/queries/exactness.test.ts.
 */
import { expect } from 'chai';
import type { Executor } from '../../../src/db/executor.ts';
import type { SqlQuery } from '../../../src/db/sql.ts';
import { failedJobs } from '../../../src/declarations/failed-jobs.ts';

const FAILED = failedJobs.rollup;
import { PartsCache } from '../../../src/read/parts-cache.ts';
import { readParts } from '../../../src/read/parts.ts';
import { relationsOf } from '../../../src/rollup/layout.ts';
import type { PartsRequest } from '../../../src/rollup/spec.ts';
import type { ChangedFrom } from '../../../src/rollup/changed.ts';
import { VERSION_PART } from '../../../src/read/tail.ts';
import { DAY_MS } from '../../../src/rollup/window.ts';

const NOW = Date.UTC(2026, 10, 20, 13, 37, 21, 123);
// Segments are read from the query's history and view together.
const BUCKETS = relationsOf(FAILED).buckets;
const TODAY = NOW - (NOW % DAY_MS);

class ScriptedExecutor implements Executor {
  version: string | null = '7';
  /** What the cycle of the current version changed: per grain ms, the first bucket; null: anything. */
  changed: ChangedFrom = null;
  /** When set: the refreshed versions this database holds, and what each changed. */
  cycles: Map<number, ChangedFrom> | undefined;
  /** The version the parts statements see, when a cycle committed after the version was read (default: the same). */
  statementVersion: string | null | undefined;
  readonly statements: SqlQuery[] = [];
  async query<R extends object>(q: SqlQuery): Promise<R[]> {
    this.statements.push(q);
    if (q.name === 'eventstats_freshness') return [{ view: FAILED.view, version: this.version, refreshed_at: new Date(NOW), checked_at: new Date(NOW) }] as R[];
    if (q.name === 'eventstats_fine_from') return [{ fine_from: String(TODAY - 8 * DAY_MS) }] as R[];
    // What the cycle that made the current version changed (src/rollup/changed.ts).
    if (q.name === 'eventstats_changed_from') {
      // The refreshed versions in ($2, $3] this database holds (by default: only the current one).
      if (!this.cycles) return (this.version === null ? [] : [{ id: this.version, changed: this.changed }]) as R[];
      const [, after, upTo] = q.values as [string, number, number];
      return [...this.cycles].filter(([id]) => id > after && id <= upTo).map(([id, changed]) => ({ id: String(id), changed })) as R[];
    }
    // One segment row per tag the statement asks for, so merges have something to add.
    // The version row (VERSION_PART) carries the version the statement saw as its first measure.
    const tags = [...q.text.matchAll(/SELECT (-?\d+) AS part/g)].map((m) => Number(m[1]));
    return tags.map((part) =>
      part === VERSION_PART
        ? { part, tenant_id: null, source_app: null, job_count: this.statementVersion ?? this.version, failed_count: null, last_failure_at: null }
        : { part, tenant_id: 't', source_app: 'a', job_count: 1, failed_count: 1, last_failure_at: part },
    ) as R[];
  }
  reads(): SqlQuery[] {
    return this.statements.filter((q) => q.text.includes(' AS part'));
  }
  clear(): void {
    this.statements.length = 0;
  }
}

const request = (start: number, end: number): PartsRequest => ({
  window: { start, end },
  filters: {},
  groupDims: ['tenant_id', 'source_app'],
  access: { kind: 'all' },
});

describe('reading parts through the cache', () => {
  const rolling = request(NOW - 7 * DAY_MS, NOW);

  it('reads the segments once per version, then only the raw edges', async () => {
    const db = new ScriptedExecutor();
    const cache = new PartsCache({ stateTtlMs: 0 });
    const first = [...(await readParts(FAILED, rolling, db, cache)).page.rows];
    expect(db.reads()).to.have.length(1);
    expect(db.reads()[0]!.text).to.include(BUCKETS);
    db.clear();
    const second = [...(await readParts(FAILED, rolling, db, cache)).page.rows];
    expect(db.reads()).to.have.length(1);
    expect(db.reads()[0]!.text).not.to.include(BUCKETS);
    expect(second).to.deep.equal(first);
  });

  it('lets concurrent misses of one window wait for a single read of the view', async () => {
    const db = new ScriptedExecutor();
    const cache = new PartsCache({ stateTtlMs: 0 });
    const answers = await Promise.all(Array.from({ length: 5 }, () => readParts(FAILED, rolling, db, cache)));
    const viewReads = db.reads().filter((q) => q.text.includes(BUCKETS));
    expect(viewReads).to.have.length(1);
    expect(db.reads()).to.have.length(5); // the four others ran their raw edges only
    for (const a of answers) expect(a.page.rows).to.deep.equal(answers[0]!.page.rows);
    expect(cache.loading.size).to.equal(0);
  });

  it('lets the waiting requests read for themselves when the shared read fails', async () => {
    const db = new ScriptedExecutor();
    let failures = 1;
    const flaky: Executor = {
      query: async <R extends object>(q: SqlQuery): Promise<R[]> => {
        if (q.text.includes(BUCKETS) && q.text.includes(' AS part') && failures-- > 0) throw new Error('connection lost');
        return db.query<R>(q);
      },
    };
    const cache = new PartsCache({ stateTtlMs: 0 });
    const settled = await Promise.allSettled(Array.from({ length: 3 }, () => readParts(FAILED, rolling, flaky, cache)));
    expect(settled.map((r) => r.status)).to.deep.equal(['rejected', 'fulfilled', 'fulfilled']);
    expect(cache.loading.size).to.equal(0);
    db.clear();
    await readParts(FAILED, rolling, flaky, cache);
    expect(db.reads().filter((q) => q.text.includes(BUCKETS))).to.have.length(0);
  });

  it('merges partials by their combine rule, without changing the cached rows', async () => {
    const db = new ScriptedExecutor();
    const cache = new PartsCache({ stateTtlMs: 0 });
    const once = [...(await readParts(FAILED, rolling, db, cache)).page.rows];
    const twice = [...(await readParts(FAILED, rolling, db, cache)).page.rows];
    expect(once).to.have.length(1);
    // Every part (segments and raw edges) added 1 job; last_failure_at is the max of the part tags.
    // The version row is not a part.
    const parts = [...db.reads()[0]!.text.matchAll(/SELECT (-?\d+) AS part/g)].filter((m) => Number(m[1]) !== VERSION_PART).length;
    expect(once[0]!.job_count).to.equal(parts);
    expect(twice[0]!.job_count).to.equal(parts);
    expect(once[0]!.last_failure_at).to.equal(parts - 2);
  });

  it('caches nothing a statement read at another version than the one keyed (a cycle in between, a replica behind)', async () => {
    const db = new ScriptedExecutor();
    const cache = new PartsCache({ stateTtlMs: 0 });
    db.statementVersion = '6';
    await readParts(FAILED, rolling, db, cache);
    // Read again from one snapshot, and nothing kept: the next read of the window reads the view again.
    expect(db.reads().filter((q) => q.text.includes(BUCKETS))).to.have.length(1);
    db.statementVersion = undefined;
    db.clear();
    await readParts(FAILED, rolling, db, cache);
    expect(db.reads()[0]!.text).to.include(BUCKETS);
    db.clear();
    await readParts(FAILED, rolling, db, cache);
    expect(db.reads()[0]!.text).not.to.include(BUCKETS);
  });

  it('reads the segments again when the view has a new version', async () => {
    const db = new ScriptedExecutor();
    const cache = new PartsCache({ stateTtlMs: 0 });
    await readParts(FAILED, rolling, db, cache);
    db.version = '8';
    db.clear();
    await readParts(FAILED, rolling, db, cache);
    expect(db.reads()[0]!.text).to.include(BUCKETS);
  });

  it('keeps the segments a new version did not change, and reads again those it did', async () => {
    const db = new ScriptedExecutor();
    const cache = new PartsCache({ stateTtlMs: 0 });
    await readParts(FAILED, rolling, db, cache);
    const all = [...db.reads()[0]!.text.matchAll(/v\.bucket < \$(\d+)/g)].length;
    expect(all, 'the first read reads every segment').to.be.greaterThan(2);
    // A cycle that changed only today's rows (at every grain, as sealing the last minute does).
    db.version = '8';
    db.changed = Object.fromEntries([DAY_MS, 3_600_000, 60_000].map((g) => [String(g), TODAY]));
    db.clear();
    await readParts(FAILED, rolling, db, cache);
    const again = db.reads()[0]!;
    const ends = [...again.text.matchAll(/v\.bucket < \$(\d+)/g)].map((m) => Number(again.values[Number(m[1]) - 1]));
    expect(ends.length, 'some segments are read again').to.be.greaterThan(0);
    expect(ends.length, 'not all of them').to.be.lessThan(all);
    expect(Math.min(...ends), 'only those ending after the change').to.be.greaterThan(TODAY);
    // Nothing changed before the end of time: a later version keeps them all.
    db.version = '9';
    db.changed = Object.fromEntries([DAY_MS, 3_600_000, 60_000].map((g) => [String(g), Number.MAX_SAFE_INTEGER]));
    db.clear();
    await readParts(FAILED, rolling, db, cache);
    expect(db.reads()[0]!.text).not.to.include(BUCKETS);
  });

  it('reads the segments again when the cycles since their version are not all known (a lineage read from a replica behind)', async () => {
    const db = new ScriptedExecutor();
    const cache = new PartsCache({ stateTtlMs: 0 });
    const nothingOld = Object.fromEntries([DAY_MS, 3_600_000, 60_000].map((g) => [String(g), Number.MAX_SAFE_INTEGER]));
    await readParts(FAILED, rolling, db, cache); // window A's segments, at version 7
    // Version 9, read while the lineage read failed over to a database holding cycle 8 only
    // (cycle 9, which changed everything, had not reached it); another window is read meanwhile.
    db.version = '9';
    db.cycles = new Map([[8, nothingOld]]);
    await readParts(FAILED, request(NOW - 3 * DAY_MS, NOW), db, cache);
    // Version 10 on a database holding every cycle: A's segments of version 7 missed cycle 9.
    db.version = '10';
    db.cycles = new Map<number, ChangedFrom>([
      [8, nothingOld],
      [9, null],
      [10, nothingOld],
    ]);
    db.clear();
    await readParts(FAILED, rolling, db, cache);
    expect(db.reads()[0]!.text, 'a gap in the lineage is not taken for "nothing changed"').to.include(BUCKETS);
  });

  it('keeps the segments when every cycle since their version is known and changed nothing of them', async () => {
    const db = new ScriptedExecutor();
    const cache = new PartsCache({ stateTtlMs: 0 });
    const nothingOld = Object.fromEntries([DAY_MS, 3_600_000, 60_000].map((g) => [String(g), Number.MAX_SAFE_INTEGER]));
    await readParts(FAILED, rolling, db, cache);
    db.version = '9';
    db.cycles = new Map([
      [8, nothingOld],
      [9, nothingOld],
    ]);
    db.clear();
    await readParts(FAILED, rolling, db, cache);
    expect(db.reads()[0]!.text).not.to.include(BUCKETS);
  });

  it('trusts the version it read for stateTtlMs', async () => {
    const db = new ScriptedExecutor();
    const cache = new PartsCache({ stateTtlMs: 60_000 });
    await readParts(FAILED, rolling, db, cache);
    db.version = '8';
    db.clear();
    await readParts(FAILED, rolling, db, cache);
    expect(db.statements.filter((q) => q.name === 'eventstats_freshness')).to.have.length(0);
    expect(db.reads()[0]!.text).not.to.include(BUCKETS);
  });

  it('caches nothing for a view that was never refreshed', async () => {
    const db = new ScriptedExecutor();
    db.version = null;
    const cache = new PartsCache({ stateTtlMs: 0 });
    await readParts(FAILED, rolling, db, cache);
    db.clear();
    await readParts(FAILED, rolling, db, cache);
    expect(db.reads()[0]!.text).to.include(BUCKETS);
    expect(db.statements.some((q) => q.text.includes('min(bucket)')), 'no tier without a version').to.equal(false);
  });

  it('keeps the raw edges of a recent window under a minute on each side', async () => {
    const db = new ScriptedExecutor();
    const cache = new PartsCache({ stateTtlMs: 0 });
    await readParts(FAILED, rolling, db, cache);
    db.clear();
    await readParts(FAILED, rolling, db, cache);
    const values = db.reads()[0]!.values as number[];
    // The raw statement binds [from, to) pairs first.
    for (let i = 0; i + 1 < 4; i += 2) expect(values[i + 1]! - values[i]!).to.be.below(60_000);
  });
});
