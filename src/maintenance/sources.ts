/**
 * How each fact source changes underneath the sealed buckets, and how a cycle finds out exactly.
 *
 * - runs (public_cps_za_runs + public_cps_za_runs_jobs): appended, late and out of order. Every job
 *   has a serial internal_id, drawn by an INSERT that holds ROW EXCLUSIVE on the jobs table from
 *   before the id is drawn to its commit or rollback. Before its snapshot, a cycle reads the
 *   sequence's last value L and then the transactions holding that lock (the holders H), without
 *   taking any lock itself (as stable-ids.ts does for real-time reads), and gives holders that are
 *   about to finish a few hundred ms. Whoever drew an id up to L is in H or had finished when H was
 *   read, so the snapshot (taken after) sees every id up to L except those of H. The cycle adds the
 *   jobs it sees with ids in (last watermark, L] to history, and remembers the ids of that range it
 *   cannot see in eventstats.held_back_jobs with H (only while H is not empty). Later cycles absorb
 *   the held-back jobs that have become visible, as they do orphans; an id still invisible once none
 *   of its holders holds the lock (checked before the snapshot) was rolled back or never used, and is
 *   dropped. So a long writer holds back only the ids it could still commit, and no writer ever
 *   waits for a cycle. Jobs whose run has not arrived yet are remembered in eventstats.orphan_jobs
 *   and retried every cycle. Deletes and updates (retention jobs, repairs) are
 *   recorded per UTC day by statement-level triggers (no trigger fires on INSERT: the gateway's
 *   insert path is untouched), and those days are re-aggregated; a TRUNCATE asks for a rebuild.
 * - status_change: upserted in place, so an old row's status and dimensions change without a new
 *   id. A cycle recomputes from the base table the created_at buckets of every row whose
 *   last_updated_at is at or after its capture bound (src/maintenance/status-capture.ts: what an
 *   upsert of an event on time leaves, at no cost to the writer), and of every version the row-level
 *   triggers recorded in eventstats.status_change_deltas: a late event's (last_updated_at older
 *   than its write's clock by more than a margin), an update that moves created_at, a delete. It
 *   deletes the records in the same transaction: one committed after its snapshot stays for the next.
 */
import pg from 'pg';
import type { ChangedBuckets } from '../rollup/changed.ts';
import { Params } from '../db/sql.ts';
import { TABLES } from '../db/tables.ts';
import { countMeasure, type Dim, type Level, type RollupSpec, type SourceName } from '../rollup/spec.ts';
import { DAY_MS, floorTo, GRAIN_MS, type Grain } from '../rollup/window.ts';
import { boundSql, parseCapture, readCapture, type CaptureState } from './status-capture.ts';
import { aggregateSql, leftOutMask, mergeIntoHistorySql, rollupMeasure, type FactSelection } from './aggregate.ts';
import { DELETED_FACTS, floorExpr, HELD_BACK_JOBS, INVALIDATIONS, keyColumns, MAINTENANCE, ORPHAN_JOBS, relationsOf, STATUS_CHANGE_DELTAS } from '../rollup/layout.ts';

export interface CycleContext {
  readonly client: pg.ClientBase;
  readonly spec: RollupSpec;
  /** History holds the facts before this (ms); null: nothing sealed yet. */
  readonly sealedTo: number | null;
  /** The id watermark of the last cycle (runs) and the bound of this cycle (the sequence's last value read before its snapshot). */
  readonly idFrom: number | null;
  readonly idTo: number | null;
  /** The writers still open when the bound was found (pg_locks.virtualtransaction), read before this cycle's snapshot. */
  readonly holders: readonly string[];
  /** Recent grains' start after this cycle. */
  readonly fineFrom: number;
  /** The status capture's state as the plan read it, and after this cycle (src/maintenance/status-capture.ts). */
  readonly capture?: { readonly previous: CaptureState | null; readonly next: CaptureState };
  /** Where this cycle changed what readers see (for the refresh log; src/rollup/changed.ts). */
  readonly changed: ChangedBuckets;
}

/** What a cycle did, for the refresh log. */
export interface ChangeStats {
  /** Delta facts (jobs) added to sealed buckets, or history rows of recomputed status buckets. */
  deltaRows: number;
  /** Days re-aggregated from the base tables (updates, deleted runs, large deletes of jobs). */
  recomputedDays: number;
  /** Facts of small deletes of jobs (per view, as kept): the buckets they fell in were recomputed. */
  deletedFacts: number;
  /** Jobs whose run has not arrived, carried to the next cycle. */
  orphans: number;
  /** Ids up to the watermark this cycle could not see while a writer that may hold them was open, carried to the next cycle. */
  heldBack: number;
}

/** A writer transaction on the jobs table, as pg_locks and pg_stat_activity show it. */
export interface Writer {
  readonly pid: number | null;
  /** Since its transaction began (ms); null when pg_stat_activity does not show it to this role. */
  readonly ageMs: number | null;
}

/** How far a cycle may absorb, found without a lock before its snapshot (src/maintenance/sources.ts, runs). */
export interface IdBound {
  /** The sequence's last value, read before the holders. */
  readonly to: number;
  /** The writers (pg_locks.virtualtransaction) still holding ROW EXCLUSIVE after the short wait. */
  readonly holders: readonly string[];
  /** The oldest of them (ms), null when none (or its start is not shown to this role). */
  readonly oldestHolderMs: number | null;
  /** Writers open longer than the bound asked for, named for the log. */
  readonly longWriters: readonly Writer[];
}

export interface BoundOptions {
  /** How long holders that are about to finish are waited for (polling pg_locks, no lock taken). */
  readonly waitMs: number;
  /** A writer open longer than this is named (longWriters). */
  readonly longWriterMs: number;
}

export interface Source {
  /** Latest fact time (ms) in the base tables, or NULL: where the recent grains' window is anchored. */
  readonly latestSql: string;
  /** Index-friendly conditions equivalent to "fact time >= bound" (ms, an SQL expression that may be NULL: no bound). */
  since(bound: string): string[];
  /** Facts carry a sign (change log): only sum measures, and rows whose count reaches 0 are removed. */
  readonly signed: boolean;
  /** Statements of a query's migration that forget the pending changes of the previous definition. */
  resetSql(view: string): string;
  /**
   * Conditions that keep a fact selection to what the watermark (an SQL expression; NULL: no bound)
   * has absorbed: the view's definition holds no fact a real-time read adds as its tail.
   */
  absorbed?(watermark: string): string[];
  /** The source's id position, read without a lock (an SQL expression), for a source that bounds its ids. */
  readonly positionSql?: string;
  /**
   * Finds how far this cycle may absorb, taking no lock (its own statements, before the cycle's
   * transaction). `known`: the last cycle's watermark; `held`: ids held back by earlier cycles. The
   * short wait happens only when something would be held back.
   */
  bound?(client: pg.ClientBase, view: string, known: number | null, held: number, options: BoundOptions): Promise<IdBound>;
  /**
   * Whether recorded changes wait, as select-list columns of the plan's one probe statement ($1 is
   * the view), and what they say: `due` when some must be applied (the cycle may not be skipped);
   * `key` for what may have changed unrecorded.
   */
  readonly pendingSql: string;
  pendingOf(row: Record<string, unknown>): { key: string; due: boolean; held?: number; capture?: CaptureState | null };
  /** The capture's next state (status_change), read before the cycle's snapshot without a lock, from the one the plan read. */
  capture?(client: pg.ClientBase, previous: CaptureState | null): Promise<CaptureState>;
  /** The facts of [from, to) (from null: from the beginning) this cycle may count; values go through p. */
  sealSelection(ctx: CycleContext, from: number | null, to: number, p: Params): FactSelection;
  /** Applies the changes below ctx.sealedTo since the last cycle. */
  applyChanges(ctx: CycleContext): Promise<ChangeStats>;
  /** Forgets pending changes before a rebuild (which reads everything again); resolves to the ids held back (ChangeStats.heldBack). */
  reset(ctx: CycleContext): Promise<number>;
}

const MAX_BIGINT = '9223372036854775807';
/** No run (yet) for a job: probed by event_id per job (the fence keeps it from a hash anti-join over every run). */
const NO_RUN = (job: string) => `NOT EXISTS (SELECT 1 FROM ${TABLES.runs} r WHERE r.event_id = ${job}.event_id OFFSET 0)`;

/** Merges the selected facts into history; resolves to the rows written, and notes each grain's lowest bucket written. */
async function merge(ctx: CycleContext, p: Params, sel: FactSelection): Promise<number> {
  const fine = p.add(ctx.fineFrom);
  const r = await ctx.client.query<{ grain_ms: string; lo: string; n: number }>(
    `WITH m AS (${mergeIntoHistorySql(ctx.spec, sel, `${fine}::bigint`)} RETURNING grain_ms, bucket)
     SELECT grain_ms, min(bucket) AS lo, count(*)::int AS n FROM m GROUP BY grain_ms`,
    p.values,
  );
  for (const row of r.rows) ctx.changed.grain(Number(row.grain_ms), Number(row.lo));
  return r.rows.reduce((n, row) => n + row.n, 0);
}

/** Seals [from, to) (from null: from the beginning) of a source into history, as this cycle may count it; resolves to the history rows written. */
export async function sealInto(source: Source, ctx: CycleContext, from: number | null, to: number): Promise<number> {
  const p = new Params();
  return merge(ctx, p, source.sealSelection(ctx, from, to, p));
}

const JOBS_SEQUENCE = `pg_get_serial_sequence(${pg.escapeLiteral(TABLES.runsJobs)}, 'internal_id')`;
/** The writers on the jobs table (as src/read/stable-ids.ts reads them), each with its session's activity as `a`. */
const WRITERS = `FROM pg_locks k LEFT JOIN pg_stat_activity a ON a.pid = k.pid
  WHERE k.locktype = 'relation' AND k.relation = ${pg.escapeLiteral(TABLES.runsJobs)}::regclass
    AND k.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()) AND k.mode = 'RowExclusiveLock'`;
const HOLDER_POLL_MS = 20;
/** A job and its run, probed by event_id (the fence keeps the planner on the index). */
const runOf = (jobs: string) => `${jobs} CROSS JOIN LATERAL (SELECT * FROM ${TABLES.runs} r0 WHERE r0.event_id = j.event_id OFFSET 0) r`;

/** The facts a small delete took away (eventstats.deleted_facts), as they were, under the runs source's aliases r and j. */
const DELETED_FROM =
  `${DELETED_FACTS} d CROSS JOIN LATERAL jsonb_populate_record(NULL::${TABLES.runs}, d.run) r` +
  ` CROSS JOIN LATERAL jsonb_populate_record(NULL::${TABLES.runsJobs}, d.job) j`;

/** Conditions on the deleted facts of a view that history holds: before sealed_to, outside re-aggregated days. */
function deletedInHistory(ctx: CycleContext, p: Params, days: readonly number[]): string[] {
  const ts = ctx.spec.facts.ts;
  const where = [`d.view_name = ${p.add(ctx.spec.view)}`, `${ts} < ${p.add(ctx.sealedTo)}`];
  if (days.length) where.push(`${floorExpr(ts, DAY_MS)} <> ALL(${p.add(days)}::bigint[])`);
  return where;
}

/**
 * Recomputes, level by level, only the buckets the deleted facts fell in. For each fact, the finest
 * grain of its level that holds every fact of its day (the recent grain from fine_from on, else the
 * finest of the others) is recomputed from the base tables for that bucket and the level's
 * dimension values, with every job up to this cycle's watermark; the level's coarser buckets around
 * it are then derived again from history's rows of that finer grain (sums of sums, maxima of maxima).
 * The kept facts only locate the buckets; their counts are never subtracted, so a fact kept twice
 * (a run and its job deleted by two transactions at once) or never counted (a run inserted again)
 * cannot make an answer wrong. It runs after the cycle's other changes, so the buckets are final.
 */
async function recomputeDeletedCells(ctx: CycleContext, days: readonly number[]): Promise<void> {
  const { client, spec } = ctx;
  const { history } = relationsOf(spec);
  const ts = spec.facts.ts;
  const dim = (d: Dim) => `coalesce((${spec.facts.dims[d]})::text, '')`;
  const measures = Object.entries(spec.measures);
  for (const level of spec.levels) {
    const recent = level.recent ?? [];
    const older = level.grains.filter((g) => !recent.includes(g));
    const tiers = [
      { grain: older.at(-1)!, coarser: older, cond: recent.length ? (p: Params) => `${ts} < ${p.add(ctx.fineFrom)}` : () => 'true' },
      ...(recent.length ? [{ grain: recent.at(-1)!, coarser: level.grains, cond: (p: Params) => `${ts} >= ${p.add(ctx.fineFrom)}` }] : []),
    ];
    // The dimensions of the run alone narrow the runs before their jobs are read.
    const ofRun = level.dims.filter((d) => !/\bj\./.test(spec.facts.dims[d] ?? ''));
    for (const tier of tiers) {
      const g = GRAIN_MS[tier.grain];
      const cells = (p: Params, dims: readonly Dim[] = level.dims, alias = true) =>
        `SELECT DISTINCT ${floorExpr(ts, g)}${alias ? ' AS b' : ''}${dims.map((d) => `, ${dim(d)}${alias ? ` AS ${d}` : ''}`).join('')}
           FROM ${DELETED_FROM} WHERE ${[...deletedInHistory(ctx, p, days), tier.cond(p)].join(' AND ')}`;
      const dimsEq = (a: string, b: string) => level.dims.map((d) => ` AND ${a}.${d} = ${b}.${d}`).join('');
      const p = new Params();
      const removed = await client.query<{ lo: string | null; hi: string | null }>(
        `WITH cells AS (${cells(p)}),
              gone AS (DELETE FROM ${history} h USING cells c
                        WHERE h.lvl = ${level.id} AND h.grain_ms = ${g} AND h.bucket = c.b${dimsEq('h', 'c')})
         SELECT min(b) AS lo, max(b) AS hi FROM cells`,
        p.values,
      );
      const lo = removed.rows[0]?.lo;
      const hi = removed.rows[0]?.hi;
      if (lo === null || lo === undefined || hi === null || hi === undefined) continue;
      // Its buckets of every grain, the coarser ones around them included, from the first one on.
      ctx.changed.from(Number(lo));
      // The finest buckets again, from the base tables.
      const q = new Params();
      const where = [
        `${ts} >= ${q.add(Number(lo))}`,
        `${ts} < ${q.add(Math.min(Number(hi) + g, ctx.sealedTo!))}`,
        tier.cond(q),
        `j.internal_id <= ${q.add(ctx.idTo)}`,
        `(${[floorExpr(ts, g), ...ofRun.map(dim)].join(', ')}) IN (${cells(q, ofRun, false)})`,
        `(${[floorExpr(ts, g), ...level.dims.map(dim)].join(', ')}) IN (${cells(q, level.dims, false)})`,
      ];
      const fineLevel = { id: level.id, dims: level.dims, grains: [tier.grain] };
      await merge({ ...ctx, spec: { ...spec, levels: [fineLevel] } }, q, { from: spec.facts.from, where });
      // The coarser buckets around them, from history's rows of that grain.
      for (const coarse of tier.coarser.filter((c) => GRAIN_MS[c] > g)) {
        const G = GRAIN_MS[coarse];
        const r = new Params();
        const around = `(SELECT DISTINCT ${floorExpr('c.b', G)} AS b${level.dims.map((d) => `, c.${d}`).join('')} FROM (${cells(r)}) c) a`;
        // Two statements: a data-modifying WITH runs after the main query, whose INSERT would then
        // meet the rows it replaces.
        await client.query(
          `DELETE FROM ${history} h USING ${around} WHERE h.lvl = ${level.id} AND h.grain_ms = ${G} AND h.bucket = a.b${dimsEq('h', 'a')}`,
          r.values,
        );
        await client.query(
          `INSERT INTO ${history} (${[...keyColumns(spec), ...measures.map(([m]) => m)].join(', ')})
           SELECT ${level.id}, ${G}::bigint, ${floorExpr('h.bucket', G)}, h.null_mask, ${spec.dims.map((d) => `h.${d}`).join(', ')},
                  ${measures.map(([m, x]) => rollupMeasure(`h.${m}`, x)).join(', ')}
             FROM ${history} h JOIN ${around} ON h.bucket >= a.b AND h.bucket < a.b + ${G}${dimsEq('h', 'a')}
            WHERE h.lvl = ${level.id} AND h.grain_ms = ${g}
            GROUP BY 3, h.null_mask, ${spec.dims.map((d) => `h.${d}`).join(', ')}`,
          r.values,
        );
      }
    }
  }
}

/**
 * Brings the view's held-back ids up to this cycle (after its merge, which counted those it sees):
 * forgets those its snapshot sees (counted now, by the merge, a recomputed day, or the REFRESH of the
 * view) and those none of whose holders is still open (their writers ended before this snapshot, so
 * an id still invisible was rolled back or never used); then holds back the ids of (from, ctx.idTo]
 * it cannot see, while some writer is open. Resolves to the ids held back now.
 */
async function holdBack(ctx: CycleContext, from: number): Promise<number> {
  const { client, spec } = ctx;
  await client.query(
    `DELETE FROM ${HELD_BACK_JOBS} h
      WHERE h.view_name = $1
        AND (NOT (h.holders && $2::text[]) OR EXISTS (SELECT 1 FROM ${TABLES.runsJobs} j WHERE j.internal_id = h.internal_id))`,
    [spec.view, ctx.holders],
  );
  if (ctx.holders.length && ctx.idTo !== null && ctx.idTo > from) {
    // Every id of the range that this snapshot does not see: a writer's in flight, or a gap (a rollback, a deleted job).
    await client.query(
      `INSERT INTO ${HELD_BACK_JOBS} (view_name, internal_id, holders)
       SELECT $1, g.id, $4::text[] FROM generate_series($2::bigint + 1, $3::bigint) AS g(id)
        WHERE NOT EXISTS (SELECT 1 FROM ${TABLES.runsJobs} j WHERE j.internal_id = g.id)
       ON CONFLICT DO NOTHING`,
      [spec.view, from, ctx.idTo, ctx.holders],
    );
  }
  const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${HELD_BACK_JOBS} WHERE view_name = $1`, [spec.view]);
  return rows[0]!.n;
}

const runs: Source = {
  latestSql: `SELECT max(timestamp_start) FROM ${TABLES.runs}`,
  // The fact time is timestamp_start itself, which is indexed. The bound is a parameter, which the
  // planner would guess to keep a third of the rows (a sequential scan); given an upper bound too, it
  // guesses a narrow range and takes the index.
  since: () => [`r.timestamp_start <= ${MAX_BIGINT}`],
  signed: false,
  resetSql: (view) =>
    `DELETE FROM ${ORPHAN_JOBS} WHERE view_name = ${pg.escapeLiteral(view)};\nDELETE FROM ${INVALIDATIONS} WHERE view_name = ${pg.escapeLiteral(view)};`,

  absorbed: (watermark) => [`j.internal_id <= coalesce(${watermark}, ${MAX_BIGINT})`],

  positionSql: `coalesce(pg_sequence_last_value(${JOBS_SEQUENCE}::regclass), 0)`,

  async bound(client, view, known, held, options) {
    // The last value first, then the holders: the holders' subquery depends on it, so it is read after.
    // A writer's age: from pg_stat_activity, which shows another role's xact_start only to a role
    // with pg_read_all_stats; else at least since the first of its ids this view held back.
    const { rows } = await client.query<{ last: string; writers: { vxid: string; pid: number | null; ms: number | null }[] | null }>(
      `WITH l AS MATERIALIZED (SELECT ${this.positionSql} AS last)
       SELECT l.last::text AS last,
              (SELECT json_agg(json_build_object('vxid', k.virtualtransaction, 'pid', k.pid,
                        'ms', floor(extract(epoch FROM clock_timestamp() - coalesce(a.xact_start,
                                (SELECT min(h.held_since) FROM ${HELD_BACK_JOBS} h WHERE h.view_name = $1 AND k.virtualtransaction = ANY(h.holders)))) * 1000)))
                 ${WRITERS} AND l.last IS NOT NULL) AS writers
         FROM l`,
      [view],
    );
    const to = Number(rows[0]!.last);
    const writers = rows[0]!.writers ?? [];
    let holders = [...new Set(writers.map((w) => w.vxid))];
    // Nothing to hold back (no new ids, none held): the holders only resolve held-back ids, and there are none.
    if (holders.length && (to > (known ?? 0) || held > 0)) {
      // Writers about to finish: a few polls of pg_locks (no lock is requested, nobody waits for us).
      const deadline = performance.now() + options.waitMs;
      while (holders.length && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, HOLDER_POLL_MS));
        const still = await client.query<{ holders: string[] }>(
          `SELECT coalesce(array_agg(DISTINCT k.virtualtransaction), '{}') AS holders ${WRITERS} AND k.virtualtransaction = ANY($1::text[])`,
          [holders],
        );
        holders = still.rows[0]!.holders;
      }
    }
    const open = writers.filter((w) => holders.includes(w.vxid));
    const ages = open.map((w) => w.ms).filter((ms): ms is number => ms !== null);
    return {
      to,
      holders: holders.sort(),
      oldestHolderMs: ages.length ? Math.max(...ages) : null,
      longWriters: open.filter((w) => w.ms !== null && w.ms >= options.longWriterMs).map((w) => ({ pid: w.pid, ageMs: w.ms })),
    };
  },

  pendingSql: `(SELECT count(*) FROM ${INVALIDATIONS} WHERE view_name = $1) + (SELECT count(*) FROM ${DELETED_FACTS} WHERE view_name = $1) AS inv,
              (SELECT count(*) FROM ${ORPHAN_JOBS} WHERE view_name = $1) AS orphans,
              (SELECT count(*) FROM ${HELD_BACK_JOBS} WHERE view_name = $1) AS held,
              (SELECT n_tup_ins FROM pg_stat_user_tables WHERE schemaname = 'public' AND relname = ${pg.escapeLiteral(TABLES.runs)}) AS runs_ins`,

  pendingOf(row) {
    // Orphan jobs wait for their runs: new runs (the insert counter moves) may resolve them.
    const orphans = Number(row.orphans);
    return { key: `orphans:${orphans}${orphans > 0 ? `@${String(row.runs_ins)}` : ''}`, due: Number(row.inv) > 0, held: Number(row.held) };
  },

  sealSelection(ctx, from, to, p) {
    const where = [
      from === null ? `r.timestamp_start < ${p.add(to)}` : `r.timestamp_start >= ${p.add(from)} AND r.timestamp_start < ${p.add(to)}`,
      `j.internal_id <= ${p.add(ctx.idTo)}`,
    ];
    // From the beginning (a rebuild), a hash join over all jobs beats millions of index probes.
    const source = from === null ? `${TABLES.runs} r JOIN ${TABLES.runsJobs} j ON j.event_id = r.event_id` : ctx.spec.facts.from;
    return { from: source, where, bulk: from === null };
  },

  async applyChanges(ctx) {
    const { client, spec } = ctx;
    const view = spec.view;
    const { history } = relationsOf(spec);
    const stats: ChangeStats = { deltaRows: 0, recomputedDays: 0, deletedFacts: 0, orphans: 0, heldBack: 0 };
    const sealedTo = ctx.sealedTo!;
    // Days whose rows were deleted or updated: re-aggregated whole from the base tables.
    const inv = await client.query<{ day: string }>(`DELETE FROM ${INVALIDATIONS} WHERE view_name = $1 RETURNING from_ms AS day`, [view]);
    const days = [...new Set(inv.rows.map((r) => floorTo(Number(r.day), DAY_MS)))].filter((d) => d < sealedTo).sort((a, b) => a - b);
    if (days.length) ctx.changed.from(days[0]!);
    for (const d of days) {
      await client.query(`DELETE FROM ${history} WHERE bucket >= $1 AND bucket < $2`, [d, d + DAY_MS]);
      await sealInto(this, ctx, d, Math.min(d + DAY_MS, sealedTo));
    }
    stats.recomputedDays = days.length;

    // New jobs (and orphans whose run may have arrived, and held-back jobs committed since) below the
    // sealed boundary, outside those days. The three sets are apart: a held-back id is neither in
    // the new range nor an orphan (it becomes one below once seen without its run).
    const p = new Params();
    const v = p.add(view);
    const jobs = `(SELECT * FROM ${TABLES.runsJobs} WHERE internal_id > ${p.add(ctx.idFrom ?? 0)} AND internal_id <= ${p.add(ctx.idTo)}
                   UNION ALL
                   SELECT j1.* FROM ${TABLES.runsJobs} j1 JOIN ${ORPHAN_JOBS} o ON o.internal_id = j1.internal_id AND o.view_name = ${v}
                   UNION ALL
                   SELECT j2.* FROM ${TABLES.runsJobs} j2 JOIN ${HELD_BACK_JOBS} h ON h.internal_id = j2.internal_id AND h.view_name = ${v}) j`;
    const where = [`r.timestamp_start < ${p.add(sealedTo)}`];
    if (days.length) where.push(`${floorExpr('r.timestamp_start', DAY_MS)} <> ALL(${p.add(days)}::bigint[])`);
    stats.deltaRows = await merge(ctx, p, { from: runOf(jobs), where });

    await client.query(
      `DELETE FROM ${ORPHAN_JOBS} o
        WHERE o.view_name = $1
          AND NOT EXISTS (SELECT 1 FROM ${TABLES.runsJobs} j WHERE j.internal_id = o.internal_id AND ${NO_RUN('j')})`,
      [view],
    );
    await client.query(
      `INSERT INTO ${ORPHAN_JOBS} (view_name, internal_id)
       SELECT $1, j.internal_id FROM ${TABLES.runsJobs} j
        WHERE j.internal_id > $2 AND j.internal_id <= $3
          AND ${NO_RUN('j')}
       UNION ALL
       SELECT $1, j.internal_id FROM ${TABLES.runsJobs} j JOIN ${HELD_BACK_JOBS} h ON h.internal_id = j.internal_id AND h.view_name = $1
        WHERE ${NO_RUN('j')}
       ON CONFLICT DO NOTHING`,
      [view, ctx.idFrom ?? 0, ctx.idTo],
    );
    stats.heldBack = await holdBack(ctx, ctx.idFrom ?? 0);
    await recomputeDeletedCells(ctx, days);
    const { rows } = await client.query<{ n: number; deleted: number }>(
      `WITH done AS (DELETE FROM ${DELETED_FACTS} WHERE view_name = $1 RETURNING 1)
       SELECT (SELECT count(*)::int FROM ${ORPHAN_JOBS} WHERE view_name = $1) AS n, (SELECT count(*)::int FROM done) AS deleted`,
      [view],
    );
    stats.orphans = rows[0]!.n;
    stats.deletedFacts = rows[0]!.deleted;
    return stats;
  },

  async reset(ctx) {
    const view = ctx.spec.view;
    await ctx.client.query(`DELETE FROM ${INVALIDATIONS} WHERE view_name = $1`, [view]);
    await ctx.client.query(`DELETE FROM ${DELETED_FACTS} WHERE view_name = $1`, [view]);
    await ctx.client.query(`DELETE FROM ${ORPHAN_JOBS} WHERE view_name = $1`, [view]);
    await ctx.client.query(
      `INSERT INTO ${ORPHAN_JOBS} (view_name, internal_id)
       SELECT $1, j.internal_id FROM ${TABLES.runsJobs} j
        WHERE j.internal_id <= $2 AND NOT EXISTS (SELECT 1 FROM ${TABLES.runs} r WHERE r.event_id = j.event_id)`,
      [view, ctx.idTo],
    );
    // The ids held back before stay so (those still invisible to writers still open), and those of
    // the new range are added. After the sequence went back (TRUNCATE ... RESTART IDENTITY) or on a
    // first build, the new range is every id up to the bound.
    const continuous = ctx.idFrom !== null && ctx.idTo !== null && ctx.idFrom <= ctx.idTo;
    if (continuous) return holdBack(ctx, ctx.idFrom!);
    // A first build (after a view's migration) need not hold back every id missing since 1
    // (retention's deletes: millions at 10M jobs) while some writer is open: another runs view's
    // last cycle, as this snapshot sees it, saw every id up to its watermark or holds it back.
    // Those of its held-back ids whose writers are still open are this view's too (holdBack drops
    // the others). With one runs view (mv_job_facts), the other is this view's own last cycle,
    // as its refresh log recorded it in that cycle's transaction: the migration that reset its
    // watermark kept its held-back ids. Not after a TRUNCATE, which asks every view for a rebuild.
    const { rows } = await ctx.client.query<{ view_name: string; w: string }>(
      `SELECT view_name, w FROM (
         SELECT m.view_name, m.id_watermark AS w FROM ${MAINTENANCE} m
          WHERE m.view_name <> $1 AND m.id_watermark IS NOT NULL AND NOT m.rebuild_requested
         UNION ALL
         SELECT $1, (SELECT (l.detail->>'idWatermark')::bigint FROM ${TABLES.refreshLog} l
                      WHERE l.view_name = $1 AND l.outcome = 'refreshed' ORDER BY l.id DESC LIMIT 1)
          WHERE NOT (SELECT m.rebuild_requested FROM ${MAINTENANCE} m WHERE m.view_name = $1)
       ) c
        WHERE w IS NOT NULL AND w <= $2
        ORDER BY w DESC LIMIT 1`,
      [view, ctx.idTo],
    );
    const other = rows[0];
    if (!other || ctx.idTo === null) return holdBack(ctx, 0);
    if (other.view_name !== view) {
      await ctx.client.query(
        `INSERT INTO ${HELD_BACK_JOBS} (view_name, internal_id, holders, held_since)
         SELECT $1, h.internal_id, h.holders, h.held_since FROM ${HELD_BACK_JOBS} h WHERE h.view_name = $2
         ON CONFLICT DO NOTHING`,
        [view, other.view_name],
      );
    }
    return holdBack(ctx, Number(other.w));
  },
};

/** The facts of the status-change table in `cells` (bucket starts of grain g, a bigint[] SQL expression), each cut at the sealed boundary. */
const statusCells = (cells: string, g: number, sealedTo: string) =>
  `unnest(${cells}::bigint[]) AS c(b) CROSS JOIN LATERAL (SELECT * FROM ${TABLES.statusChange} s0
     WHERE s0.created_at >= 'epoch'::timestamptz + c.b * interval '1 millisecond'
       AND s0.created_at < 'epoch'::timestamptz + least(c.b + ${g}, ${sealedTo}::bigint) * interval '1 millisecond' OFFSET 0) s`;

/** A (level, grain) whose rows a recompute corrects by the differences it made at a finer grain of its root level. */
interface Target {
  readonly level: Level;
  readonly grainMs: number;
}

/** A level's grains in a tier, coarse to fine: its recent grains only in the recent tier (facts from fine_from on). */
const keptIn = (level: Level, recentTier: boolean): Grain[] => level.grains.filter((g) => recentTier || !(level.recent ?? []).includes(g));

/**
 * The level holding every dimension of the spec, when each other level's rows are sums of its rows:
 * every other level's rows at a grain the root keeps at the same times are the root's rows summed
 * over the dimensions they leave out. Undefined: none (each level is recomputed on its own).
 */
function rootLevel(spec: RollupSpec): Level | undefined {
  return spec.levels.find((l) => spec.dims.every((d) => l.dims.includes(d)));
}

/**
 * Recomputes whole buckets (every dimension value) holding the fact times `times` (ms, below
 * sealed_to) from the base table. With a root level (rootLevel), only the root's buckets are read
 * and recomputed, at its finest grain in each tier, and every other (level, grain) at least as
 * coarse is corrected by the root's differences summed over what it leaves out (in the same
 * statement); a grain of another level finer than the root's (its recent minutes) is recomputed
 * from the base table as its own. Without one, each level's buckets are recomputed (finest grain)
 * and its coarser rows corrected by its own differences. Every measure of a change-log source is a
 * sum, so a coarser row is the sum of the finer rows it covers, and what a recompute changed, summed
 * per coarser bucket, is what that row must change by. A bucket recomputed is right whatever
 * happened to its rows since the last cycle, and recomputing one twice costs time, not exactness.
 * Resolves to the history rows written at the recomputed grains.
 */
async function recomputeBuckets(ctx: CycleContext, times: readonly number[]): Promise<number> {
  const { spec } = ctx;
  for (const [name, m] of Object.entries(spec.measures)) {
    if (m.combine !== 'sum') throw new Error(`${spec.view}.${name}: a recomputed bucket's coarser rows are corrected by sums, not ${m.combine}`);
  }
  const root = rootLevel(spec);
  // The old and new rows of a recompute (tens of thousands at 10M jobs) are compared in memory by
  // a hash join: a merge join sorts both sides by their text keys first (at 10M, 0.8 s of a 2.9 s
  // statement), and spills at the default work_mem. For this transaction's recompute only, and put
  // back after: replaceBuckets joins nothing else (its delete takes the rows gone by ctid).
  const { rows: before } = await ctx.client.query<{ wm: string; mj: string }>(
    `SELECT current_setting('work_mem') AS wm, current_setting('enable_mergejoin') AS mj, set_config('work_mem', $1, true), set_config('enable_mergejoin', 'off', true)`,
    [RECOMPUTE_WORK_MEM],
  );
  // (A failed statement aborts the transaction, and its rollback puts them back.)
  const written = await recomputeTiers(ctx, times, root);
  await ctx.client.query(`SELECT set_config('work_mem', $1, true), set_config('enable_mergejoin', $2, true)`, [before[0]!.wm, before[0]!.mj]);
  return written;
}

/** Room for a recompute's sorts and hash tables (set for its statements only). */
const RECOMPUTE_WORK_MEM = '64MB';

async function recomputeTiers(ctx: CycleContext, times: readonly number[], root: Level | undefined): Promise<number> {
  const { spec } = ctx;
  let written = 0;
  for (const recentTier of [false, true]) {
    const tierTimes = times.filter((t) => t < ctx.sealedTo! && (t >= ctx.fineFrom) === recentTier);
    if (!tierTimes.length) continue;
    // A level's finest grain below `below` (ms) recomputed, its coarser ones below it corrected.
    const own = async (level: Level, below: number) => {
      const grains = keptIn(level, recentTier).filter((G) => GRAIN_MS[G] < below);
      if (!grains.length) return 0;
      return recompute(ctx, level, grains.at(-1)!, tierTimes, grains.slice(0, -1).map((G) => ({ level, grainMs: GRAIN_MS[G] })));
    };
    if (!root) {
      for (const level of spec.levels) written += await own(level, Infinity);
      continue;
    }
    const finest = keptIn(root, recentTier).at(-1)!;
    const g = GRAIN_MS[finest];
    const targets: Target[] = [];
    for (const level of spec.levels) {
      for (const G of keptIn(level, recentTier).map((k) => GRAIN_MS[k])) {
        if (G < g || (level === root && G === g)) continue;
        if (G % g !== 0) throw new Error(`${spec.view} lvl ${level.id}: grain ${G} ms is not a multiple of its root level's ${g} ms`);
        targets.push({ level, grainMs: G });
      }
    }
    written += await recompute(ctx, root, finest, tierTimes, targets);
    for (const level of spec.levels) if (level !== root) written += await own(level, g);
  }
  return written;
}

/** Recomputes `level`'s `grain` buckets holding `times` (below sealed_to) from the base table, correcting `targets` by the differences. */
async function recompute(ctx: CycleContext, level: Level, grain: Grain, times: readonly number[], targets: readonly Target[]): Promise<number> {
  const { spec } = ctx;
  const g = GRAIN_MS[grain];
  const cells = [...new Set(times.map((t) => floorTo(t, g)))].sort((a, b) => a - b);
  if (!cells.length) return 0;
  ctx.changed.from(cells[0]!);
  const p = new Params();
  const fineLevel = { id: level.id, dims: level.dims, grains: [grain] };
  const fresh = aggregateSql({ ...spec, levels: [fineLevel] }, { from: statusCells(p.add(cells), g, p.add(ctx.sealedTo!)), where: [] }, `${p.add(ctx.fineFrom)}::bigint`);
  return replaceBuckets(ctx, level.id, g, cells, fresh, p, targets);
}

/**
 * Replaces a level's rows of the grain-`g` buckets `buckets` in history by `rows` (an SQL query over
 * `p`'s values, in the history's columns), writing only what differs: the old and the new rows are
 * compared by a full join on the key (a hash join, whatever the sizes), a row no longer there is
 * deleted, a new one inserted, one whose measures changed updated, and an unchanged row left as it
 * is (the rows gone by their ctids: a TID scan, where a join with the estimate of the new rows
 * could hash the whole history table). The same differences, summed per bucket of each target (a coarser grain of this level, or a
 * grain of a level holding a subset of its dimensions: their values kept, the others '' and marked
 * in null_mask as that level's rows are), are added to the target's rows (all in one statement: each
 * part writes rows of its own level and grain, and PostgreSQL runs every data-modifying part to
 * completion whether or not the result reads it). Rows whose count reaches 0 are left for the
 * caller's sweep. Resolves to the rows written at grain `g`.
 */
async function replaceBuckets(ctx: CycleContext, lvl: number, g: number, buckets: readonly number[], rows: string, p: Params, targets: readonly Target[]): Promise<number> {
  const { spec, client } = ctx;
  const { history } = relationsOf(spec);
  const key = keyColumns(spec);
  const measures = Object.keys(spec.measures);
  const cols = [...key, ...measures];
  const dims = ['null_mask', ...spec.dims];
  const up = targets.map(({ level, grainMs: G }, i) => {
    const leftOut = leftOutMask(spec, level);
    const kept = ((1 << spec.dims.length) - 1) ^ leftOut;
    const values = [`(${leftOut} | (x.k_null_mask & ${kept}))`, ...spec.dims.map((d) => (level.dims.includes(d) ? `x.k_${d}` : `''::text`))];
    return `,
          c${i} AS (INSERT INTO ${history} AS h (${cols.join(', ')})
                SELECT ${level.id}, ${G}::bigint, ${floorExpr('x.k_bucket', G)}, ${values.join(', ')}, ${measures.map((m) => `sum(x.d_${m})`).join(', ')}
                  FROM x WHERE x.gone OR x.differs
                 GROUP BY 3, ${values.map((_, j) => j + 4).join(', ')}
                ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${measures.map((m) => `${m} = h.${m} + EXCLUDED.${m}`).join(', ')})`;
  });
  const r = await client.query<{ n: number }>(
    `WITH n AS MATERIALIZED (${rows}),
          o AS MATERIALIZED (SELECT h.ctid AS tid, ${cols.map((c) => `h.${c}`).join(', ')} FROM ${history} h
                              WHERE h.lvl = ${lvl} AND h.grain_ms = ${g} AND h.bucket = ANY(${p.add(buckets)}::bigint[])),
          x AS MATERIALIZED (SELECT o.tid, n.lvl IS NULL AS gone,
                                    (${measures.map((m) => `n.${m}`).join(', ')}, NULL) IS DISTINCT FROM (${measures.map((m) => `o.${m}`).join(', ')}, NULL) AS differs,
                                    ${cols.map((c) => `n.${c}`).join(', ')},
                                    coalesce(n.bucket, o.bucket) AS k_bucket, ${dims.map((d) => `coalesce(n.${d}, o.${d}) AS k_${d}`).join(', ')},
                                    ${measures.map((m) => `coalesce(n.${m}, 0) - coalesce(o.${m}, 0) AS d_${m}`).join(', ')}
                               FROM n FULL JOIN o ON ${key.map((k) => `n.${k} = o.${k}`).join(' AND ')}),
          d AS (DELETE FROM ${history} h WHERE h.ctid = ANY(ARRAY(SELECT x.tid FROM x WHERE x.gone)) RETURNING 1),
          u AS (INSERT INTO ${history} AS h (${cols.join(', ')})
                SELECT ${cols.join(', ')} FROM x WHERE NOT x.gone AND x.differs
                ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${measures.map((m) => `${m} = EXCLUDED.${m}`).join(', ')}
                RETURNING 1)${up.join('')}
     SELECT ((SELECT count(*) FROM d) + (SELECT count(*) FROM u))::int AS n`,
    p.values,
  );
  return r.rows[0]!.n;
}

/** The rows of the capture's window (last_updated_at at or after the view's stored bound), as the probe and the cycle read them. */
const STATUS_WINDOW = `${TABLES.statusChange} s
  WHERE s.last_updated_at >= ${boundSql(`(SELECT (m1.capture->>'fromUs') FROM ${MAINTENANCE} m1 WHERE m1.view_name = $1)`)}
    AND s.last_updated_at < 'infinity'::timestamptz`;

const statusChange: Source = {
  latestSql: `SELECT floor(extract(epoch FROM max(created_at)) * 1000)::bigint FROM ${TABLES.statusChange}`,
  // The fact time is computed from created_at; the index is on created_at itself.
  // (The upper bound: as for runs.)
  since: (bound) => [`s.created_at >= coalesce(to_timestamp((${bound})::float8 / 1000), '-infinity'::timestamptz)`, `s.created_at < 'infinity'::timestamptz`],
  // History's rows are recomputed, never subtracted from; the flag keeps the generated DDL (the
  // index on rows whose count is 0) of the queries' migrations, from when the triggers wrote signed facts.
  signed: true,
  resetSql: (view) => `DELETE FROM ${STATUS_CHANGE_DELTAS} WHERE view_name = ${pg.escapeLiteral(view)};`,

  // The window's rows and their versions (xmin): a version written since the last cycle changes the
  // sum (a skipped cycle does not move the bound, so a hash collision only delays a change).
  pendingSql: `(SELECT count(*) FROM ${STATUS_CHANGE_DELTAS} WHERE view_name = $1) AS deltas,
              (SELECT m2.capture FROM ${MAINTENANCE} m2 WHERE m2.view_name = $1) AS capture,
              (SELECT count(*)::text || ':' || coalesce(sum(hashtextextended(s.job_id::text || '@' || s.xmin::text, 0)), 0)::text
                 FROM ${STATUS_WINDOW}) AS capture_window`,

  pendingOf(row) {
    return { key: `window:${String(row.capture_window)}`, due: Number(row.deltas) > 0, capture: parseCapture(row.capture) };
  },

  capture: (client, previous) => readCapture(client, previous),

  sealSelection(ctx, from, to, p) {
    const iso = (t: number) => p.add(new Date(t).toISOString());
    const where = [from === null ? `s.created_at < ${iso(to)}::timestamptz` : `s.created_at >= ${iso(from)}::timestamptz AND s.created_at < ${iso(to)}::timestamptz`];
    return { from: ctx.spec.facts.from, where, bulk: from === null };
  },

  async applyChanges(ctx) {
    const { client, spec } = ctx;
    const { history } = relationsOf(spec);
    const capture = ctx.capture!;
    const stored = await client.query<{ capture: unknown }>(`SELECT capture FROM ${MAINTENANCE} WHERE view_name = $1`, [spec.view]);
    // Another cycle since the plan (the view's advisory lock prevents it): its bound is not the one
    // this plan's holders were read against. The next cycle plans again.
    if (JSON.stringify(parseCapture(stored.rows[0]?.capture)) !== JSON.stringify(capture.previous)) {
      throw new Error(`${spec.view}: another cycle moved the status capture since this cycle's plan; the next cycle plans again`);
    }
    // The created_at of every recorded version (deleted: they are done with this snapshot; one
    // committed later stays for the next cycle) and of every row in the window, at ms.
    const { rows } = await client.query<{ t: string }>(
      `WITH d AS (DELETE FROM ${STATUS_CHANGE_DELTAS} WHERE view_name = $1 RETURNING old_created_at, new_created_at),
            c AS (SELECT old_created_at AS t FROM d UNION ALL SELECT new_created_at FROM d
                  UNION ALL SELECT s.created_at FROM ${STATUS_WINDOW})
       SELECT DISTINCT floor(extract(epoch FROM t) * 1000)::bigint::text AS t FROM c WHERE t IS NOT NULL AND t < $2::timestamptz`,
      [spec.view, new Date(ctx.sealedTo!).toISOString()],
    );
    const deltaRows = await recomputeBuckets(ctx, rows.map((r) => Number(r.t)));
    await client.query(`DELETE FROM ${history} WHERE ${countMeasure(spec)} = 0`);
    await client.query(`UPDATE ${MAINTENANCE} SET capture = $2 WHERE view_name = $1`, [spec.view, JSON.stringify(capture.next)]);
    return { deltaRows, recomputedDays: 0, deletedFacts: 0, orphans: 0, heldBack: 0 };
  },

  async reset(ctx) {
    await ctx.client.query(`DELETE FROM ${STATUS_CHANGE_DELTAS} WHERE view_name = $1`, [ctx.spec.view]);
    // The rebuild reads every row this snapshot sees; the bound of the next cycle is this cycle's.
    if (ctx.capture) await ctx.client.query(`UPDATE ${MAINTENANCE} SET capture = $2 WHERE view_name = $1`, [ctx.spec.view, JSON.stringify(ctx.capture.next)]);
    return 0;
  },
};

export const SOURCES: Readonly<Record<SourceName, Source>> = Object.freeze({ runs, status_change: statusChange });
