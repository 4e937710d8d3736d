import { RAW_STATS_COLUMNS } from "../raw/raw-stats.js";
import { answerMaxAge, sendCacheable, strongEtag, weakEtag, weakEtagOfRows } from "./caching.js";
import { csvDisposition, fileInstant, toCsv } from "./csv.js";
import { okBody, sendOkJson } from "./envelope.js";
import { RowTexts } from "./row-texts.js";
export const JSON_TYPE = 'application/json; charset=utf-8';
export const CSV_TYPE = 'text/csv; charset=utf-8';
/** The raw endpoint's paging, for CSV answers (the JSON answer keeps it in `pagination`). */
export const PAGING_HEADERS = Object.freeze({ cursor: 'X-Next-Cursor', hasMore: 'X-Has-More', limit: 'X-Limit' });
/** A query's CSV columns: its declared columns, the `<group_by keys>` one standing for the applied group_by. */
export function queryCsvColumns(query, params) {
    return query.columns.flatMap((c) => {
        if (c.name.startsWith('<'))
            return (params.group_by ?? []).map((name) => ({ name }));
        return [c.epochMs ? { name: c.name, kind: 'epoch_ms' } : { name: c.name }];
    });
}
export function sendQueryAnswer(req, res, { query, topic, result, format, now, cron }) {
    // result.data is not read for a JSON answer of kept row texts (src/read/execute.ts makes it when read).
    const { meta, params } = result;
    if (meta.refreshed_at)
        res.setHeader('Last-Modified', new Date(meta.refreshed_at).toUTCString());
    const start = params.timestamp_start;
    const end = params.timestamp_end;
    const lastCycleAt = meta.source_checked_at === null ? null : Date.parse(meta.source_checked_at);
    const maxAgeSeconds = answerMaxAge({ windowEnd: end, now, cron, lastCycleAt });
    // A poll answered from the process: the rows are those it was last sent with when format,
    // parameters and meta (but staleness_ms) are too.
    const deliveries = result.deliveries;
    const key = deliveries && `${format}|${topic}|${query.name}|${JSON.stringify(params)}|${JSON.stringify({ ...meta, staleness_ms: null })}`;
    const held = deliveries?.held && deliveries.held.key === key ? deliveries.held : undefined;
    if (format === 'csv') {
        const delivery = held ?? { key: key ?? '', body: toCsv(queryCsvColumns(query, params), result.data), etag: '' };
        const body = Buffer.from(delivery.body);
        const etag = held?.etag ?? strongEtag(format, body);
        if (deliveries && !held)
            deliveries.keep({ ...delivery, etag });
        sendCacheable(req, res, {
            format,
            body,
            contentType: CSV_TYPE,
            headers: { 'Content-Disposition': csvDisposition([query.name, topic, fileInstant(start), fileInstant(end)]) },
            maxAgeSeconds,
            etag,
        });
        return;
    }
    let body;
    let etag;
    if (held) {
        body = withStaleness(held.body, meta);
        etag = held.etag;
    }
    else {
        const answer = jsonAnswer(topic, query.name, result);
        body = answer.body;
        etag = answer.etag;
        if (deliveries)
            deliveries.keep({ key: key, body: answer.identity, etag });
    }
    // Sent as a string: Node writes the head and the body in one write, and no Buffer copy is made.
    sendCacheable(req, res, { format, body, contentType: JSON_TYPE, maxAgeSeconds, etag });
}
/** The answer rows' texts of this process (src/http/row-texts.ts). */
const ROW_TEXTS = new RowTexts();
/**
 * A compiled query's JSON envelope, its identity (the same without meta.staleness_ms, which says
 * how old this delivery may be: a poll answered from the process, a replica's lag, the time since
 * the last cycle) and its weak entity tag. The same answer polled twice differs in staleness_ms
 * only, so the entity tag is taken over the identity and is weak, and a polling dashboard still
 * gets its 304.
 *
 * With the rows' merged rows known (`sources`, QueryPlan.rowwise) each row's text is taken from
 * `texts`, made once per merged row, and the body is the envelope's head (okBody puts data last)
 * and the rows: a `days` answer serialises only the rows its edges and tail changed. Its tag is
 * taken over the head and the rows' digests (weakEtagOfRows). Otherwise the rows are serialised
 * once (an answer of 100 rows is 16-24 kB): the body is the identity with its meta, which comes
 * before the data, serialised again alone, and the tag is the identity's SHA-256.
 */
export function jsonAnswer(topic, queryName, result, texts = ROW_TEXTS) {
    const { params, meta, sources } = result;
    const extra = { topic, query: queryName, params };
    if (!sources) {
        const identity = JSON.stringify(okBody(result.data, { ...extra, meta: { ...meta, staleness_ms: null } }));
        return { body: withStaleness(identity, meta), identity, etag: weakEtag('json', Buffer.from(identity)) };
    }
    // okBody puts data last, so the envelope's JSON ends with the placeholder's `null}`.
    const head = (m) => JSON.stringify(okBody(null, { ...extra, meta: m })).slice(0, -'null}'.length);
    const rows = sources.rows.map((source) => texts.of(source, sources.key, () => sources.row(source)));
    const tail = `[${rows.map((r) => r.text).join(',')}]}`;
    const identityHead = head({ ...meta, staleness_ms: null });
    const identity = identityHead + tail;
    const body = meta.staleness_ms === null ? identity : head(meta) + tail;
    return { body, identity, etag: weakEtagOfRows('json', identityHead, rows.map((r) => r.digest)) };
}
/** A JSON answer's body from its identity: the envelope's meta, serialised alone, in place of the identity's. */
export function withStaleness(identity, meta) {
    if (meta.staleness_ms === null)
        return identity;
    const held = `"meta":${JSON.stringify({ ...meta, staleness_ms: null })}`;
    const at = identity.indexOf(held);
    return `${identity.slice(0, at)}"meta":${JSON.stringify(meta)}${identity.slice(at + held.length)}`;
}
/** A raw page as JSON: its rows come as JSON text already (src/raw/raw-stats.ts readRawPageJson). */
export function sendRawJsonPage(res, page) {
    sendOkJson(res, page.rowsJson, { pagination: page.pagination });
}
/** A raw page as CSV, the paging in headers. */
export function sendRawCsvPage(res, { topic, request, page }) {
    const { cursor, has_more: hasMore, limit } = page.pagination;
    if (cursor !== null)
        res.setHeader(PAGING_HEADERS.cursor, String(cursor));
    res.setHeader(PAGING_HEADERS.hasMore, String(hasMore));
    res.setHeader(PAGING_HEADERS.limit, String(limit));
    const after = request.cursor === null ? [] : [`before${request.cursor}`];
    res.setHeader('Content-Disposition', csvDisposition(['raw', topic, fileInstant(request.start), fileInstant(request.end), ...after]));
    const body = Buffer.from(toCsv(RAW_STATS_COLUMNS, page.rows));
    res.status(200);
    res.setHeader('Content-Type', CSV_TYPE);
    res.setHeader('Content-Length', body.length);
    res.end(body);
}
//# sourceMappingURL=answer.js.map