import { Router } from 'express';
import { ValidationError } from "../../core/errors.js";
import { RAW_STATS_TOPICS } from "../../db/tables.js";
import { RawStatsBody, readRawPageJson, readRawStats, resolveRequest } from "../../raw/raw-stats.js";
import { sendRawCsvPage, sendRawJsonPage } from "../answer.js";
import { takeFormat } from "../format.js";
import { userOf } from "../auth.js";
import { accessOf, topicOf } from "../topic.js";
import { YIELD_FROM_ROWS, yieldToLoop } from "../../core/yield.js";
import { bodyObject, parseOrThrow } from "../../core/validation.js";
import { overloadedAnswers } from "../overloaded.js";
/**
 * Before the raw endpoint's body is read: a page the admission budget would refuse now is refused
 * here, with the same 429 envelope its route would send, serialised once (src/http/overloaded.ts),
 * so a client that retries at once costs no body parsing, validation or error object per refusal.
 * The route still enters the budget itself (the answer here only comes first); a request that is
 * both malformed and over the budget is answered 429 rather than 400.
 */
export function rawAdmissionCheck(admission) {
    const answer = overloadedAnswers();
    return (req, res, next) => {
        if (req.method !== 'POST' || req.path !== '/' || !RAW_STATS_TOPICS.includes(topicOf(res)))
            return next();
        const refused = admission.refusal(userOf(res));
        if (refused === undefined)
            return next();
        const send = answer(refused.message, refused.retryAfterSeconds);
        // Held as the error middleware holds it (refusalHoldMs); not sent to a client that left.
        if (refused.holdMs > 0)
            setTimeout(() => res.destroyed || send(res), refused.holdMs).unref();
        else
            send(res);
    };
}
/**
 * POST /stats/{topic_name}: raw rows, the upstream contract. Mounted behind auth, topic and ACL.
 * `format` (body) or Accept: text/csv answers CSV, the paging in X-Next-Cursor / X-Has-More / X-Limit.
 */
export function rawStatsRoutes(deps) {
    const router = Router();
    router.post('/stats/:topic_name', async (req, res) => {
        const topic = topicOf(res);
        if (!RAW_STATS_TOPICS.includes(topic)) {
            throw new ValidationError(`stats are only supported for topics '${RAW_STATS_TOPICS.join(', ')}'`);
        }
        const { format, params } = takeFormat(req, bodyObject(req.body));
        const request = resolveRequest(parseOrThrow(RawStatsBody, params), deps.now());
        const executor = (await deps.executor.session?.()) ?? deps.executor;
        // Every page reads the base tables: admitted within the user's and the process's budget (src/core/admission.ts).
        const admit = (read) => (deps.admission ? deps.admission.run(userOf(res), read) : read());
        // JSON: the rows come as JSON text from PostgreSQL, so the event loop only joins them (src/raw/raw-stats.ts).
        if (format === 'json') {
            const page = await admit(() => readRawPageJson(executor, request, accessOf(res)));
            // The page was joined in this task; it is sent after a turn of the loop (src/core/yield.ts).
            if (page.rowCount >= YIELD_FROM_ROWS)
                await yieldToLoop();
            sendRawJsonPage(res, page);
        }
        else
            sendRawCsvPage(res, { topic, request, page: await admit(() => readRawStats(executor, request, accessOf(res))) });
    });
    return router;
}
//# sourceMappingURL=stats.js.map