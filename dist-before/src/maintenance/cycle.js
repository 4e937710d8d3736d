/**
 * One maintenance cycle of a compiled query's materialization (what a "refresh" is):
 *
 *   history (table)  every fact before sealed_to, as of the id watermark (runs) or the change log
 *   view (matview)   every fact from sealed_to on, recomputed by REFRESH ... CONCURRENTLY
 *
 * A cycle, in one REPEATABLE READ transaction begun after the source's id bound was found (without a
 * lock: src/maintenance/sources.ts):
 *   1. applies the changes below sealed_to since the last cycle (late jobs, orphans whose run came,
 *      re-aggregated days after deletes, recomputed buckets of changed status rows) to history;
 *   2. seals [sealed_to, new sealed_to) from the base tables into history (new sealed_to: the start
 *      of the previous minute, so the view holds a minute or two);
 *   3. drops recent-tier grains older than the new fine_from from history (they age into coarser grains);
 *   4. moves sealed_to, and refreshes the view, whose definition reads sealed_to from the same row.
 * Readers see either everything before the commit or everything after it. A rebuild (asked for, or
 * after a TRUNCATE, or when nothing is sealed yet) builds a new history aside and swaps it in.
 */
import { randomUUID } from 'node:crypto';
import { ChangedBuckets } from "../rollup/changed.js";
import { DAY_MS, floorTo, MINUTE_MS } from "../rollup/window.js";
import { Params } from "../db/sql.js";
import { bucketsViewSql, emptyRowsIndexSql, filterIndexesSql, filterIndexName, unqualified } from "./ddl.js";
import { TABLES } from "../db/tables.js";
import { sealInto, SOURCES } from "./sources.js";
import { aggregateSql, recentGrains } from "./aggregate.js";
import { FINE_DAYS, keyColumns, MAINTENANCE, OPEN_MS, relationsOf } from "../rollup/layout.js";
const REBUILD_WORK_MEM = '64MB';
/** How long a cycle gives writers that are about to finish before it holds their ids back. */
export const HOLDER_WAIT_MS = 300;
/** The state row, locked for the cycle's update. */
async function lockState(client, view) {
    const { rows } = await client.query(`SELECT sealed_to, fine_from, id_watermark, rebuild_requested FROM ${MAINTENANCE} WHERE view_name = $1 FOR UPDATE`, [view]);
    if (!rows[0])
        throw new Error(`${view} has no maintenance row: run \`npm run migrate\``);
    return rows[0];
}
const num = (v) => (v === null ? null : Number(v));
/**
 * A new history built aside and swapped in, as a plain REFRESH MATERIALIZED VIEW does: CREATE TABLE
 * AS (parallel workers, no index maintained row by row), its key built in one pass, then, at the
 * end, the old table dropped and the new one renamed with the relation reads take. Readers keep the
 * old history until then, and wait only for the commit that follows (the lock timeout bounds the
 * wait for readers still running).
 */
async function rebuildHistory(source, ctx, sealTo) {
    const { client, spec } = ctx;
    const { history, buckets } = relationsOf(spec);
    const next = `${history}_next`;
    // Grouping every fact at once: room for the hash tables (this transaction only).
    await client.query(`SELECT set_config('work_mem', $1, true)`, [REBUILD_WORK_MEM]);
    const p = new Params();
    const sel = source.sealSelection(ctx, null, sealTo, p);
    const fine = p.add(ctx.fineFrom);
    await client.query(`CREATE TABLE ${next} AS\n${aggregateSql(spec, sel, `${fine}::bigint`)}`, p.values);
    await client.query(`ALTER TABLE ${next} ADD CONSTRAINT ${unqualified(next)}_pkey PRIMARY KEY (${keyColumns(spec).join(', ')})`);
    if (source.signed)
        await client.query(emptyRowsIndexSql(spec, next, '_next'));
    for (const sql of filterIndexesSql(spec, next, '_next'))
        await client.query(sql);
    await client.query(`DROP VIEW ${buckets}`);
    await client.query(`DROP TABLE ${history}`);
    await client.query(`ALTER TABLE ${next} RENAME TO ${unqualified(history)}`);
    await client.query(`ALTER INDEX eventstats.${unqualified(next)}_pkey RENAME TO ${unqualified(history)}_pkey`);
    if (source.signed)
        await client.query(`ALTER INDEX eventstats.${unqualified(history)}_empty_next RENAME TO ${unqualified(history)}_empty`);
    for (const l of spec.levels) {
        for (const d of l.indexes ?? [])
            await client.query(`ALTER INDEX eventstats.${filterIndexName(spec, l.id, d)}_next RENAME TO ${filterIndexName(spec, l.id, d)}`);
    }
    await client.query(bucketsViewSql(spec));
    await client.query(`GRANT SELECT ON ${history}, ${buckets} TO eventstats_reader`);
}
/**
 * Before the cycle's transaction: read everything the decision needs in one statement (the state
 * row, the source's id position and pending changes, the clock, whether the view is populated, and
 * the key of the last cycle the refresh log recorded), find the id bound without a lock if ids were handed out since, and decide
 * what the cycle would do (its key). A cycle with nothing to do costs this one round trip.
 */
export async function planCycle(client, spec, options) {
    const source = SOURCES[spec.facts.source];
    const { rows } = await client.query(`SELECT m.sealed_to, m.fine_from, m.id_watermark, m.rebuild_requested,
            floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now,
            (${source.latestSql}) AS latest,
            ${source.positionSql ?? 'NULL'} AS position,
            coalesce((SELECT v.ispopulated FROM pg_matviews v WHERE v.schemaname || '.' || v.matviewname = $1), false) AS populated,
            (SELECT l.watermark FROM ${TABLES.refreshLog} l WHERE l.view_name = $1 AND l.outcome IN ('refreshed', 'skipped')
              ORDER BY l.id DESC LIMIT 1) AS last_key,
            ${source.pendingSql}
       FROM ${MAINTENANCE} m WHERE m.view_name = $1`, [spec.view]);
    const state = rows[0];
    if (!state)
        throw new Error(`${spec.view} has no maintenance row: run \`npm run migrate\``);
    const pending = source.pendingOf(state);
    const known = num(state.id_watermark);
    let bound = null;
    if (options.naiveWatermark) {
        const max = await client.query(`SELECT coalesce(max(internal_id), 0) AS w FROM ${TABLES.runsJobs}`);
        bound = { to: Number(max.rows[0].w), holders: [], oldestHolderMs: null, longWriters: [] };
    }
    else if (source.bound) {
        bound = await source.bound(client, spec.view, known, pending.held ?? 0, { waitMs: options.holderWaitMs ?? HOLDER_WAIT_MS, longWriterMs: options.longWriterMs });
    }
    const previous = pending.capture ?? null;
    const capture = source.capture ? { previous, next: await source.capture(client, previous) } : null;
    const now = options.now ?? Number(state.now);
    const latest = Math.min(num(state.latest) ?? now, now);
    // The sequence went back (TRUNCATE ... RESTART IDENTITY, or a restore): ids are counted anew.
    const wentBack = bound !== null && !options.naiveWatermark && known !== null && bound.to < known;
    const rebuild = options.rebuild === true || state.rebuild_requested || state.sealed_to === null || wentBack;
    const sealed = num(state.sealed_to);
    const sealTo = Math.max(floorTo(now, MINUTE_MS) - OPEN_MS, rebuild || sealed === null ? -Infinity : sealed);
    const fineTarget = floorTo(latest, DAY_MS) - FINE_DAYS * DAY_MS;
    const fineFrom = rebuild ? fineTarget : Math.max(Number(state.fine_from), fineTarget);
    // Recorded changes are deleted when applied, so a key can only say that some wait, not which:
    // with any waiting the key is unique, and the cycle runs.
    const key = [
        rebuild ? 'rebuild' : `sealed:${sealTo}`,
        `fine:${fineFrom}`,
        `ids:${bound?.to ?? '-'}`,
        pending.key,
        // Held-back ids wait for their writers: a writer that ended may have committed some.
        ...(pending.held ? [`held:${pending.held}@${bound?.holders.join(',') ?? ''}`] : []),
        ...(pending.due ? [`due@${randomUUID()}`] : []),
    ].join('/');
    return { key, rebuild, bound, capture, idFrom: known, sealTo, fineFrom, populated: state.populated, unchanged: !rebuild && state.populated && state.last_key === key };
}
/** Runs the cycle in the caller's transaction (REPEATABLE READ, begun after planCycle). */
export async function runCycle(client, spec, plan, concurrently = true) {
    const source = SOURCES[spec.facts.source];
    const { view, history } = relationsOf(spec);
    const state = await lockState(client, view);
    const oldSealed = num(state.sealed_to);
    const oldIds = num(state.id_watermark);
    const rebuild = plan.rebuild || state.rebuild_requested || oldSealed === null;
    // Another cycle may have run since the plan (the view's advisory lock prevents it; a session lock
    // lost behind a pooler would not): its held-back ids may belong to writers that began after this
    // plan's holders were read, which this cycle would take for ended. It stops; the next one plans anew.
    if (plan.bound !== null && oldIds !== plan.idFrom) {
        throw new Error(`${view}: another cycle moved the id watermark since this cycle's plan; the next cycle plans again`);
    }
    // Never go back, unless rebuilding (which counts every id up to the bound, whatever the sequence did).
    const idTo = plan.bound === null ? null : rebuild ? plan.bound.to : Math.max(plan.bound.to, oldIds ?? 0);
    const sealTo = rebuild ? plan.sealTo : Math.max(plan.sealTo, oldSealed);
    const changed = new ChangedBuckets();
    // The recent tier's start never moves back over compacted rows (another cycle may have run since the plan).
    const fineFrom = rebuild ? plan.fineFrom : Math.max(plan.fineFrom, Number(state.fine_from));
    const holders = plan.bound?.holders ?? [];
    const ctx = { client, spec, sealedTo: rebuild ? null : oldSealed, idFrom: oldIds, idTo, fineFrom, changed, holders, ...(plan.capture ? { capture: plan.capture } : {}) };
    let changes;
    let sealedRows;
    if (rebuild) {
        changed.all();
        changes = { heldBack: await source.reset(ctx) };
        await rebuildHistory(source, ctx, sealTo);
    }
    else {
        changes = await source.applyChanges(ctx);
        // Recent grains that aged past fine_from: their facts stay in the coarser grains.
        const aged = recentGrains(spec);
        if (aged.length && fineFrom > Number(state.fine_from)) {
            await client.query(`DELETE FROM ${history} WHERE (lvl, grain_ms) IN (${aged.map((g) => `(${g.lvl}, ${g.grainMs})`).join(', ')}) AND bucket < $1`, [fineFrom]);
        }
        sealedRows = sealTo > oldSealed ? await sealInto(source, ctx, oldSealed, sealTo) : 0;
        // The view holds the facts from sealed_to on: the buckets holding the old sealed_to and later
        // change with its REFRESH. (Compacted recent grains change no answer: their facts are in the
        // coarser grains, and a version's coverage stops plans from reading them.)
        changed.from(oldSealed);
    }
    await client.query(`UPDATE ${MAINTENANCE} SET sealed_to = $2, fine_from = $3, id_watermark = $4, rebuild_requested = false, updated_at = now() WHERE view_name = $1`, [view, sealTo, fineFrom, idTo]);
    // The view's definition reads sealed_to and fine_from from the row just updated (this transaction's own write).
    // CONCURRENTLY keeps the view readable meanwhile; it needs a populated view. A rebuild swaps
    // history in anyway (readers wait for its commit): a plain REFRESH then writes the view anew, so
    // the view of every fact that a query's migration built leaves no dead rows behind (at 10M jobs,
    // hundreds of MB that a CONCURRENTLY refresh's deletes kept and VACUUM could not give back).
    await client.query(`REFRESH MATERIALIZED VIEW ${concurrently && !rebuild ? 'CONCURRENTLY ' : ''}${view}`);
    const writers = plan.bound ? { holders: holders.length, oldestHolderMs: plan.bound.oldestHolderMs, longWriters: plan.bound.longWriters } : {};
    return { rebuild, sealedFrom: rebuild ? null : oldSealed, sealedTo: sealTo, idWatermark: idTo, sealedRows, ...changes, ...writers, changedFrom: changed.toJSON() };
}
//# sourceMappingURL=cycle.js.map