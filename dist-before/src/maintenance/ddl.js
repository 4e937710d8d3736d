/**
 * The migration of one compiled query, generated from its declaration: `npm run migration:query --
 * <name>` writes it to migrations/ (src/cli/migration-query.ts), where it is committed and never
 * edited; a changed declaration gets a new one. Applying it (re)builds the query's materialization:
 *
 * - the history table (sealed buckets) and its key;
 * - the materialized view (buckets from the query's sealed_to on), built under a temporary name
 *   and swapped in at the end, so that readers of the previous view are not blocked while it fills;
 * - the relation reads go through (history UNION ALL view), grants, and the refresh queue;
 * - the query's maintenance row, reset to "nothing sealed": the view holds every fact until the
 *   worker's (or `npm run refresh`'s) first cycle seals them into history. That is the one rebuild
 *   a changed definition costs, and answers stay exact and available throughout.
 */
import pg from 'pg';
import { PGBOSS_SCHEMA, refreshQueue } from "../db/tables.js";
import { countMeasure } from "../rollup/spec.js";
import { DAY_MS } from "../rollup/window.js";
import { SOURCES } from "./sources.js";
import { aggregateSql, storedColumns } from "./aggregate.js";
import { FINE_DAYS, floorExpr, keyColumns, MAINTENANCE, relationsOf } from "../rollup/layout.js";
// Literals of constant names (views, queues) quoted by pg's own helper.
const { escapeLiteral } = pg;
const MIN_BIGINT = '-9223372036854775808';
export const unqualified = (name) => name.replace(/^eventstats\./, '');
/**
 * The view's definition: every fact from the query's sealed_to on (all of them while it is NULL),
 * as far as the source's watermark has absorbed them (so that a real-time read adds exactly the
 * facts past it; src/read/tail.ts).
 */
export function viewDefinitionSql(spec) {
    const source = SOURCES[spec.facts.source];
    const state = (col) => `(SELECT ${col} FROM ${MAINTENANCE} WHERE view_name = ${escapeLiteral(spec.view)})`;
    const sealed = state('sealed_to');
    const where = [`${spec.facts.ts} >= coalesce(${sealed}, ${MIN_BIGINT})`, ...source.since(sealed), ...(source.absorbed?.(state('id_watermark')) ?? [])];
    return aggregateSql(spec, { from: spec.facts.from, where }, state('fine_from'));
}
/** The relation reads take: sealed buckets and recent ones (a bucket may have rows in both: parts combine). */
export function bucketsViewSql(spec) {
    const { view, history, buckets } = relationsOf(spec);
    const cols = storedColumns(spec).map((c) => c.name);
    return `CREATE VIEW ${buckets} AS
SELECT ${cols.join(', ')} FROM ${history}
UNION ALL
SELECT ${cols.join(', ')} FROM ${view};`;
}
/** A change-log source subtracts: rows whose count reaches 0 are found (and deleted) through this index. */
export function emptyRowsIndexSql(spec, table = relationsOf(spec).history, nameSuffix = '') {
    return `CREATE INDEX ${unqualified(relationsOf(spec).history)}_empty${nameSuffix} ON ${table} (lvl) WHERE ${countMeasure(spec)} = 0;`;
}
/** The name of a level's filter index on a dimension (Level.indexes). */
export const filterIndexName = (spec, lvl, dim) => `${unqualified(relationsOf(spec).history)}_l${lvl}_${dim}`;
/**
 * The filter indexes the levels declare (Level.indexes), on `table` (the history table, or the one a
 * rebuild builds aside), each named with `nameSuffix` appended: (grain_ms, dim, bucket) over the
 * level's rows, so that a filter on one value of the dimension reads only its rows.
 */
export function filterIndexesSql(spec, table = relationsOf(spec).history, nameSuffix = '') {
    return spec.levels.flatMap((l) => (l.indexes ?? []).map((d) => `CREATE INDEX ${filterIndexName(spec, l.id, d)}${nameSuffix} ON ${table} (grain_ms, ${d}, bucket) WHERE lvl = ${l.id};`));
}
/** The statements of a generated migration's Up section (after its marker line). */
export function upSection(migration) {
    const m = /^-- Up Migration\n([\s\S]*?)\n-- Down Migration\n/.exec(migration);
    if (!m)
        throw new Error('not a generated query migration: no "-- Up Migration" ... "-- Down Migration" sections');
    return m[1];
}
/**
 * The generated migration of a view. `previous`: the text of the view's generated migration before
 * this one, if any; undoing this one replays its Up section, which rebuilds the view as that
 * migration left it. Without one, undoing it removes the view, its state and its queue (the first
 * generated migrations of the first five queries, landed before that rule, left a view of before
 * incremental maintenance instead).
 */
export function queryMigrationSql(name, spec, file, previous) {
    const { view, history, buckets } = relationsOf(spec);
    const source = SOURCES[spec.facts.source];
    const key = keyColumns(spec);
    const next = `${view}_next`;
    const queue = refreshQueue(view);
    const fineFrom = `(SELECT ${floorExpr('t', DAY_MS)} - ${FINE_DAYS} * ${DAY_MS}
           FROM (SELECT least(coalesce((${source.latestSql}), now_ms), now_ms) AS t
                   FROM (SELECT floor(extract(epoch FROM now()) * 1000)::bigint AS now_ms) AS c) AS l)`;
    const historyColumns = storedColumns(spec).map((c) => `${c.name} ${c.type}${key.includes(c.name) ? ' NOT NULL' : ''}`);
    const firstDown = `-- Down Migration
-- The view did not exist before this migration: undoing it removes the view, its state and its queue.
DROP VIEW IF EXISTS ${buckets};
DROP TABLE IF EXISTS ${history};
DROP MATERIALIZED VIEW IF EXISTS ${view};
${source.resetSql(view)}
DELETE FROM ${MAINTENANCE} WHERE view_name = ${escapeLiteral(view)};
SELECT ${PGBOSS_SCHEMA}.delete_queue(${escapeLiteral(queue)})
 WHERE EXISTS (SELECT 1 FROM ${PGBOSS_SCHEMA}.queue WHERE name = ${escapeLiteral(queue)});`;
    const filters = filterIndexesSql(spec);
    const filterIndexes = filters.length ? `-- A filter on one value of a high-cardinality dimension reads only its rows.\n${filters.join('\n')}\n` : '';
    const zeroIndex = source.signed ? `-- A change-log source subtracts: rows whose count reaches 0 are deleted through this index.\n${emptyRowsIndexSql(spec)}\n` : '';
    return `-- Up Migration
-- Generated by \`npm run migration:query -- ${name}\` from the declaration of ${name} in
-- ${file.slice(0, file.lastIndexOf('/') + 1)} (${file}). Never edit it: a changed declaration gets a new generated migration.
-- What it builds and why: src/maintenance/ddl.ts and docs/ARCHITECTURE.md.

-- Nothing sealed yet: the view built below holds every fact; the first maintenance cycle seals them.
INSERT INTO ${MAINTENANCE} (view_name, source, fine_from)
VALUES (${escapeLiteral(view)}, ${escapeLiteral(spec.facts.source)}, ${fineFrom})
ON CONFLICT (view_name) DO UPDATE
   SET source = EXCLUDED.source, fine_from = EXCLUDED.fine_from, sealed_to = NULL, id_watermark = NULL,
       rebuild_requested = false, updated_at = now();
${source.resetSql(view)}
DROP VIEW IF EXISTS ${buckets};
DROP TABLE IF EXISTS ${history};
CREATE TABLE ${history} (
    ${historyColumns.join(',\n    ')},
    PRIMARY KEY (${key.join(', ')})
);
${zeroIndex}${filterIndexes}
CREATE MATERIALIZED VIEW ${next} AS
${viewDefinitionSql(spec)}
WITH DATA;
DROP MATERIALIZED VIEW IF EXISTS ${view};
ALTER MATERIALIZED VIEW ${next} RENAME TO ${unqualified(view)};
CREATE UNIQUE INDEX ${unqualified(view)}_key ON ${view} (${key.join(', ')});

-- What reads take: sealed buckets and recent ones (a bucket may have rows in both: parts combine).
${bucketsViewSql(spec)}

GRANT SELECT ON ${history}, ${view}, ${buckets} TO eventstats_reader;

SELECT ${PGBOSS_SCHEMA}.create_queue(${escapeLiteral(queue)}, '{"policy": "stately"}')
 WHERE NOT EXISTS (SELECT 1 FROM ${PGBOSS_SCHEMA}.queue WHERE name = ${escapeLiteral(queue)});

${previous === undefined ? firstDown : `-- Down Migration
-- Replays the Up section of the query's previous generated migration: the query is rebuilt as that
-- migration left it, and its first cycle seals it again.
${upSection(previous)}`}
`;
}
//# sourceMappingURL=ddl.js.map