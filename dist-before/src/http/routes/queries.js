import { Router } from 'express';
import { YIELD_FROM_ROWS, yieldToLoop } from "../../core/yield.js";
import { ValidationError } from "../../core/errors.js";
import { catalogOf } from "../../declarations/catalog.js";
import { prepareQuery } from "../../read/execute.js";
import { findQuery, queriesOf, viewSchedule } from "../../declarations/index.js";
import { QUERY_ROUTE } from "../../declarations/route.js";
import { bodyObject } from "../../core/validation.js";
import { sendQueryAnswer } from "../answer.js";
import { sendOk } from "../envelope.js";
import { takeFormat } from "../format.js";
import { queryStringParams } from "../query-string.js";
import { userOf } from "../auth.js";
import { accessOf, topicOf } from "../topic.js";
/** A GET carries its parameters in the query string; a body there would be ignored silently, so it is refused. */
function refuseBody(req) {
    const body = req.body;
    const empty = body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0);
    if (!empty)
        throw new ValidationError('body: a GET takes its parameters in the query string; send a body with POST');
}
/**
 * The compiled-query routes. Mounted behind auth, topic resolution and the ACL. GET and POST are one
 * handler: the query string becomes the object a body would be (src/http/query-string.ts), and
 * both go through the same schema, execution and answer.
 */
export function queryRoutes(deps) {
    const router = Router();
    router.get('/stats/:topic_name/queries', (_req, res) => {
        sendOk(res, catalogOf(topicOf(res)), { topic: topicOf(res) });
    });
    const lookup = (req, res) => {
        const topic = topicOf(res);
        const name = String(req.params.query_name);
        const query = findQuery(topic, name);
        if (!query) {
            const supported = queriesOf(topic).map((q) => q.name);
            throw new ValidationError(`unknown query '${name}' for topic '${topic}'; supported: ${supported.length ? supported.join(', ') : '(none)'}`);
        }
        return query;
    };
    const answer = async (req, res, query, input) => {
        const { format, params } = takeFormat(req, input);
        const now = deps.now();
        const prepared = prepareQuery(query, params, accessOf(res), now);
        // With read replicas, every statement of this answer goes to one database (src/db/read-targets.ts).
        const executor = (await deps.executor.session?.()) ?? deps.executor;
        const result = await prepared.run(executor, deps.parts, deps.realtime(query.name), userOf(res), deps.admission);
        // A large answer was merged in this task; it is formatted after a turn of the loop (src/core/yield.ts).
        if (result.meta.row_count >= YIELD_FROM_ROWS)
            await yieldToLoop();
        sendQueryAnswer(req, res, { query, topic: topicOf(res), result, format, now, cron: viewSchedule(query.rollup.view, deps.schedules) });
    };
    router.post(QUERY_ROUTE, async (req, res) => {
        const query = lookup(req, res);
        await answer(req, res, query, bodyObject(req.body));
    });
    router.get(QUERY_ROUTE, async (req, res) => {
        const query = lookup(req, res);
        refuseBody(req);
        await answer(req, res, query, bodyObject(queryStringParams(req, query)));
    });
    return router;
}
//# sourceMappingURL=queries.js.map