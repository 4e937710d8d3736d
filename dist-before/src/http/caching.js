/**
 * HTTP caching of compiled-query answers (GET and POST): a strong ETag over the bytes sent,
 * If-None-Match answered with 304, and a Cache-Control max-age bounded by the view's schedule and
 * the window. Tokens are still checked on every request (a 304 is only sent after auth, the ACL and
 * the query ran), and `private` keeps shared caches (CDN, gateway) from serving one user's answer to
 * another. Errors are never cached (src/http/errors.ts sends them with `no-store`).
 */
import { createHash, hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { firingsAround } from "../core/cron.js";
import { OPEN_MS } from "../rollup/layout.js";
import { floorTo, MINUTE_MS } from "../rollup/window.js";
/** How long an answer whose window reaches the unsealed present may be reused. */
export const LIVE_MAX_AGE_SECONDS = 5;
/** The most any answer may be reused, whatever the view's schedule. */
export const PAST_MAX_AGE_SECONDS = 300;
/**
 * The answer depends on the token (the user's ACL scopes the rows) and, when `format` is absent, on
 * Accept (JSON or CSV). `bearer` is the upstream gateway's bare token header.
 */
export const VARY = 'Authorization, bearer, Accept';
/**
 * Seconds a client may reuse an answer without asking again.
 *
 * No answer is immutable: the gateway writes a run when it ends, hours after the start it is counted
 * under, and late rows land anywhere in the past. A real-time answer (REALTIME on) counts them the
 * moment they commit; one as of the last cycle (REALTIME off) still reads its raw edges live and
 * takes the rest in at the next cycle. So max-age is a bound on staleness, chosen conservatively:
 *
 * - never beyond the view's next scheduled cycle. A cached answer is then at most one refresh interval
 *   behind, which is what REALTIME=off promises anyway; a cycle that is due but has not finished yet
 *   (its cron fired after the last cycle ended) may land any moment, so the answer gets the live bound.
 * - a window reaching the unsealed present (its end at or after the start of the previous minute,
 *   where maintenance stops sealing and on-time rows still arrive every second; "now" included):
 *   LIVE_MAX_AGE_SECONDS, enough for the panels of one dashboard to share a read.
 * - any other (past) window: until the next cycle, and at most PAST_MAX_AGE_SECONDS, so a sparse
 *   schedule (hourly, daily) does not let a client sit on an answer for hours while late rows arrive.
 */
export function answerMaxAge({ windowEnd, now, cron, lastCycleAt }) {
    const { due, next } = firings(cron, now);
    const cycleDue = lastCycleAt === null || lastCycleAt < due;
    const untilNextCycle = cycleDue ? LIVE_MAX_AGE_SECONDS : Math.max(0, Math.floor((next - now) / 1000));
    const live = windowEnd >= floorTo(now, MINUTE_MS) - OPEN_MS;
    return Math.min(untilNextCycle, live ? LIVE_MAX_AGE_SECONDS : PAST_MAX_AGE_SECONDS);
}
/**
 * The last firing at or before `now` and the next one after it, per cron, reused until the next
 * firing passes. Bounded: the crons come from the config and the registry, a few dozen at most. The
 * entries expire by the `now` each request passes in (tests pass any), not by a ttl on the wall clock.
 */
const lastFirings = new LRUCache({ max: 256 });
function firings(cron, now) {
    const known = lastFirings.get(cron);
    if (known && known.due <= now && now < known.next)
        return known;
    const found = firingsAround(cron, now);
    lastFirings.set(cron, found);
    return found;
}
/**
 * A weak entity tag: the SHA-256 of the format and the bytes that identify the answer, where the
 * body as sent also carries what only says when and how it was served (meta.staleness_ms), so two
 * answers with the same data and meta otherwise are the same answer (RFC 9110 8.8.1, weak validator).
 */
export function weakEtag(format, identity) {
    return `W/${strongEtag(format, identity)}`;
}
/**
 * A weak entity tag of a JSON answer given as its head (the envelope up to `"data":`) and the SHA-256
 * digests (base64url) of its rows' texts, in order: the SHA-256 of the format, the head and the
 * digests. The bytes of the identity (head, then the rows in brackets) decide it, and any byte that
 * changes changes the head or a row's digest, so it changes the tag; hashing 43 characters per row
 * instead of the row costs a fraction (a row's digest is made once with its text, src/http/row-texts.ts).
 * The head holds no raw newline (JSON escapes them) and a digest no comma: the parts cannot run together.
 */
export function weakEtagOfRows(format, head, rowDigests) {
    return `W/"${hash('sha256', `${format}\n${head}\n${rowDigests.join(',')}`, 'base64url')}"`;
}
/** A strong entity tag: the SHA-256 of the format and the exact bytes of the body. */
export function strongEtag(format, body) {
    return `"${createHash('sha256').update(format).update('\n').update(body).digest('base64url')}"`;
}
/**
 * Whether If-None-Match names `etag` (RFC 9110 13.1.2: weak comparison, so W/"x" matches "x"; `*`
 * matches any current answer).
 */
export function ifNoneMatchHits(header, etag) {
    if (header === undefined)
        return false;
    if (header.trim() === '*')
        return true;
    const opaque = etag.replace(/^W\//, '');
    return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === opaque);
}
/**
 * Sends an answer with its ETag, Cache-Control and Vary, or a 304 without a body when If-None-Match
 * names its ETag. Written with res.end, not res.send: Express would also answer 304 on
 * If-Modified-Since against Last-Modified, which a real-time answer can change without (Last-Modified
 * is the last refresh, and rows that came since count too), so If-Modified-Since is not honoured.
 *
 * POST answers 304 too, although RFC 9110 asks 412 for a method other than GET or HEAD: a query POST
 * is a safe read whose parameters travel in the body, and its clients revalidate like GET clients.
 */
export function sendCacheable(req, res, rep) {
    const etag = rep.etag ?? strongEtag(rep.format, rep.body);
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', `private, max-age=${rep.maxAgeSeconds}`);
    res.setHeader('Vary', VARY);
    if (ifNoneMatchHits(req.headers['if-none-match'], etag)) {
        res.status(304).end();
        return;
    }
    for (const [name, value] of Object.entries(rep.headers ?? {}))
        res.setHeader(name, value);
    res.status(200);
    res.setHeader('Content-Type', rep.contentType);
    res.setHeader('Content-Length', typeof rep.body === 'string' ? Buffer.byteLength(rep.body) : rep.body.length);
    res.end(rep.body);
}
//# sourceMappingURL=caching.js.map