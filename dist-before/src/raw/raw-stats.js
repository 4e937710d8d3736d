/**
 * The raw-rows reader behind POST /stats/{topic_name}: the upstream gateway's contract, kept
 * exactly (fields, computed columns, keyset paging on internal_id DESC, limit clamped to 1000).
 */
import { z } from 'zod';
import { scopeCondition } from "../auth/scope.js";
import { Params } from "../db/sql.js";
import { TABLES } from "../db/tables.js";
import { ValidationError } from "../core/errors.js";
import { YIELD_FROM_ROWS, yieldToLoop } from "../core/yield.js";
import { EPOCH_MS_MAX, EPOCH_MS_MIN, epochMsParam } from "../rollup/window.js";
export const RAW_DEFAULT_LIMIT = 50;
export const RAW_MAX_LIMIT = 1000;
export const DEFAULT_WINDOW_MS = 7 * 24 * 3600 * 1000;
/**
 * The longest window the raw endpoint reads (issue 26): every page of it is a statement on the base
 * tables, and a window of years makes each one scan for the whole statement timeout. A longer
 * period is read window by window.
 */
export const RAW_MAX_WINDOW_DAYS = 31;
const RAW_MAX_WINDOW_MS = RAW_MAX_WINDOW_DAYS * 24 * 3600 * 1000;
const CURSOR_RULE = 'must be an integer from 0 to 2147483647 (the last internal_id of the previous page)';
// null counts as absent, as in the upstream handler (body.get(...) is None).
const epochMs = epochMsParam().nullish();
export const RawStatsBody = z.object({
    timestamp_start: epochMs,
    timestamp_end: epochMs,
    // internal_id is a PostgreSQL integer: a larger cursor would fail in the database, not here.
    cursor: z.int({ error: CURSOR_RULE }).min(0, { error: CURSOR_RULE }).max(2_147_483_647, { error: CURSOR_RULE }).nullish(),
    limit: z
        .int({ error: 'must be a positive integer' })
        .min(1, { error: 'must be a positive integer' })
        .nullish()
        .transform((v) => Math.min(v ?? RAW_DEFAULT_LIMIT, RAW_MAX_LIMIT)),
});
/** The request with its defaults applied; throws ValidationError (400) when its window is longer than RAW_MAX_WINDOW_DAYS. */
export function resolveRequest(input, now) {
    const start = input.timestamp_start ?? now - DEFAULT_WINDOW_MS;
    const end = input.timestamp_end ?? now;
    if (end - start > RAW_MAX_WINDOW_MS) {
        throw new ValidationError(`'timestamp_start', 'timestamp_end': the window must not be longer than ${RAW_MAX_WINDOW_DAYS} days (it is ${Math.ceil((end - start) / 86_400_000)}); read a longer period window by window`);
    }
    return { start, end, cursor: input.cursor ?? null, limit: input.limit };
}
const SCOPE_COLUMNS = { tenant_id: 'r.tenant_id', source_app: 'r.source_app', environment: 'r.environment' };
/** The page's rows from the base tables: limit + 1 of them, the extra one only telling whether another page exists. */
function pageStatement(req, access, p) {
    const cursor = req.cursor === null ? '' : `AND j.internal_id < ${p.add(req.cursor)}`;
    return `
SELECT r.event_id, r.job_ref, r.tenant_id, r.source_app, r.source_app_version, r.environment,
       r.timestamp_start AS run_timestamp_start, r.timestamp_end AS run_timestamp_end,
       j.internal_id, j.country, j.catalog_id, j.status,
       j.timestamp_start, j.timestamp_end, j.message, j.additional_info
  FROM ${TABLES.runsJobs} j
  JOIN ${TABLES.runs} r ON j.event_id = r.event_id
 WHERE r.timestamp_start >= ${p.add(req.start)} AND r.timestamp_start <= ${p.add(req.end)}
   ${cursor}
   AND ${scopeCondition(access, SCOPE_COLUMNS, p)}
 ORDER BY j.internal_id DESC
 LIMIT ${p.add(req.limit + 1)}`;
}
/** The page's rows as the database holds them (the CSV answer, and the JSON answer's rows that PostgreSQL does not format: readRawPageJson). */
export function buildRawStatsQuery(req, access) {
    const p = new Params();
    const text = pageStatement(req, access, p);
    return { text, values: p.values };
}
/**
 * The columns of a raw row, in the order of the JSON answer (the upstream's, then the computed ones),
 * with what they hold where a reader needs telling: an instant in epoch ms, or free-form JSON.
 */
export const RAW_STATS_COLUMNS = Object.freeze([
    { name: 'event_id' },
    { name: 'job_ref' },
    { name: 'tenant_id' },
    { name: 'source_app' },
    { name: 'source_app_version' },
    { name: 'environment' },
    { name: 'run_timestamp_start', kind: 'epoch_ms' },
    { name: 'run_timestamp_end', kind: 'epoch_ms' },
    { name: 'internal_id' },
    { name: 'country' },
    { name: 'catalog_id' },
    { name: 'status' },
    { name: 'timestamp_start', kind: 'epoch_ms' },
    { name: 'timestamp_end', kind: 'epoch_ms' },
    { name: 'message' },
    { name: 'additional_info', kind: 'json' },
    { name: 'run_date' },
    { name: 'run_status' },
    { name: 'formatted_tenant' },
    { name: 'elapsed_time' },
    { name: 'start_time' },
    { name: 'end_time' },
]);
function utc(ms) {
    return new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
}
/** run_status as the upstream derives it (itself mirroring the Qlik load script). */
export function runStatus(status, message) {
    if (status.toLowerCase() !== 'failed')
        return 'succeeded';
    const m = (message ?? '').toLowerCase();
    if (m.includes('no data'))
        return 'no data received';
    if (m.includes('no records to send'))
        return 'no data produced';
    return 'failed';
}
export function formatRow(row) {
    const runStart = row.run_timestamp_start;
    const runDay = runStart === null ? null : utc(runStart);
    return {
        ...row,
        run_date: runDay === null ? null : `${runDay.slice(8, 10)}-${runDay.slice(5, 7)}-${runDay.slice(0, 4)}`,
        run_status: runStatus(row.status, row.message),
        formatted_tenant: row.tenant_id.toLowerCase(),
        elapsed_time: row.timestamp_start !== null && row.timestamp_end !== null ? row.timestamp_end - row.timestamp_start : null,
        start_time: row.timestamp_start === null ? null : utc(row.timestamp_start).slice(0, 19).replace('T', ' '),
        end_time: row.timestamp_end === null ? null : utc(row.timestamp_end).slice(0, 19).replace('T', ' '),
    };
}
export async function readRawStats(executor, req, access) {
    const fetched = await executor.query(buildRawStatsQuery(req, access));
    const hasMore = fetched.length > req.limit;
    const page = hasMore ? fetched.slice(0, req.limit) : fetched;
    return {
        rows: page.map(formatRow),
        pagination: { cursor: hasMore ? (page.at(-1)?.internal_id ?? null) : null, has_more: hasMore, limit: req.limit },
    };
}
const DAY_MS = 86_400_000;
/** `ms` (bigint epoch ms) as a timestamp without time zone, by integer arithmetic (floor to days, then seconds of day: what toISOString's first 19 characters hold). */
function utcSql(ms) {
    const msOfDay = `((${ms} % ${DAY_MS} + ${DAY_MS}) % ${DAY_MS})`;
    return `(timestamp '1970-01-01' + make_interval(days => ((${ms} - ${msOfDay}) / ${DAY_MS})::int, secs => ${msOfDay} / 1000))`;
}
/** Fields as one JSON object's members, `"k":v,...`, each value by to_json and NULL as null (keys are this module's constants). */
function jsonMembersSql(fields) {
    return fields.map(([key, expr], i) => `'${i ? ',' : ''}"${key}":' || coalesce(to_json(${expr})::text, 'null')`).join(' || ');
}
const INSTANTS = ['run_timestamp_start', 'run_timestamp_end', 'timestamp_start', 'timestamp_end'];
const HEAD_COLUMNS = RAW_STATS_COLUMNS.slice(0, RAW_STATS_COLUMNS.findIndex((c) => c.name === 'additional_info')).map((c) => c.name);
const lowerC = (expr) => `lower(${expr} COLLATE "C")`;
const TAIL_SQL = [
    ['run_date', `CASE WHEN p.run_timestamp_start IS NOT NULL THEN to_char(${utcSql('p.run_timestamp_start')}, 'DD-MM-YYYY') END`],
    [
        'run_status',
        `CASE WHEN ${lowerC('p.status')} <> 'failed' THEN 'succeeded'
          WHEN strpos(${lowerC("coalesce(p.message, '')")}, 'no data') > 0 THEN 'no data received'
          WHEN strpos(${lowerC("coalesce(p.message, '')")}, 'no records to send') > 0 THEN 'no data produced'
          ELSE 'failed' END`,
    ],
    ['formatted_tenant', lowerC('p.tenant_id')],
    ['elapsed_time', 'p.timestamp_end - p.timestamp_start'],
    ['start_time', `to_char(${utcSql('p.timestamp_start')}, 'YYYY-MM-DD HH24:MI:SS')`],
    ['end_time', `to_char(${utcSql('p.timestamp_end')}, 'YYYY-MM-DD HH24:MI:SS')`],
];
/** The rows PostgreSQL formats: every instant null or within EPOCH_MS_MIN..EPOCH_MS_MAX, and an ASCII tenant_id. */
const FORMATTED_IN_SQL = [
    ...INSTANTS.map((c) => `(p.${c} IS NULL OR p.${c} BETWEEN ${EPOCH_MS_MIN} AND ${EPOCH_MS_MAX})`),
    'octet_length(p.tenant_id) = char_length(p.tenant_id)',
].join(' AND ');
/** The page of buildRawStatsQuery, each row as JsonPieces (the JSON built only for the page's rows, after the limit). */
export function buildRawJsonQuery(req, access) {
    const p = new Params();
    const page = pageStatement(req, access, p);
    const text = `
WITH p AS (${page})
SELECT p.internal_id,
       CASE WHEN ${FORMATTED_IN_SQL} THEN '{' || ${jsonMembersSql(HEAD_COLUMNS.map((c) => [c, `p.${c}`]))} END AS head,
       p.additional_info::text AS info,
       CASE WHEN ${FORMATTED_IN_SQL} THEN ${jsonMembersSql(TAIL_SQL)} || '}' END AS tail,
       CASE WHEN NOT (${FORMATTED_IN_SQL}) THEN row_to_json(p)::text END AS raw
  FROM p
 ORDER BY p.internal_id DESC`;
    return { text, values: p.values };
}
function rowJson(r) {
    if (r.head === null || r.tail === null)
        return JSON.stringify(formatRow(JSON.parse(r.raw)));
    return `${r.head},"additional_info":${r.info === null ? 'null' : JSON.stringify(JSON.parse(r.info))},${r.tail}`;
}
export async function readRawPageJson(executor, req, access) {
    const fetched = await executor.query(buildRawJsonQuery(req, access));
    const hasMore = fetched.length > req.limit;
    const page = hasMore ? fetched.slice(0, req.limit) : fetched;
    // The statement's last rows were parsed in this task: the joining waits a turn (src/core/yield.ts).
    if (page.length >= YIELD_FROM_ROWS)
        await yieldToLoop();
    return {
        rowsJson: `[${page.map(rowJson).join(',')}]`,
        rowCount: page.length,
        pagination: { cursor: hasMore ? (page.at(-1)?.internal_id ?? null) : null, has_more: hasMore, limit: req.limit },
    };
}
//# sourceMappingURL=raw-stats.js.map