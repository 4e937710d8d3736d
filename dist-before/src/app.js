/**
 * createApp(deps): the Express app, wired and nothing else. The server, the Lambda handler and the
 * tests all build it the same way, with their own collaborators.
 */
import { randomUUID } from 'node:crypto';
import express, {} from 'express';
import { pinoHttp } from 'pino-http';
import { authenticate } from "./http/auth.js";
import { jsonBody } from "./http/body.js";
import { errorHandler, notFoundRoute } from "./http/errors.js";
import { healthRoutes } from "./http/health.js";
import { inFlightGate } from "./http/in-flight.js";
import { openApiRoutes } from "./http/openapi.js";
import { dashboardRoutes } from "./http/routes/dashboard.js";
import { devTokenRoutes } from "./http/routes/dev-token.js";
import { docsRoutes } from "./http/routes/docs.js";
import { queryRoutes } from "./http/routes/queries.js";
import { rawAdmissionCheck, rawStatsRoutes } from "./http/routes/stats.js";
import { authorizeTopic, resolveTopic } from "./http/topic.js";
import { requestMetrics, routeGate } from "./metrics/requests.js";
import { METRICS_PATH, scrapeHandler } from "./http/metrics-server.js";
import { PartsCache } from "./read/parts-cache.js";
/** A request as pino-std-serializers renders it, without its query string (in `url`) or its parsed `query`. */
function withoutQuery(req) {
    const { query: _query, ...rest } = req;
    return { ...rest, url: typeof req.url === 'string' ? req.url.split('?')[0] : req.url };
}
/** Requests refused under it before reaching a route (auth, topic, ACL, body) are labelled with it in the metrics. */
const TOPIC_PATH = '/stats/:topic_name';
const REQUEST_ID = /^[\w.:-]{1,128}$/;
export function createApp(deps) {
    const now = deps.now ?? Date.now;
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    // Every answer, errors and 404s included: a browser never guesses a type other than the one sent.
    app.use((_req, res, next) => {
        res.setHeader('X-Content-Type-Options', 'nosniff');
        next();
    });
    // Scrapes come first: neither logged (one every 15 s or so) nor timed into the request histogram.
    if (deps.metrics?.serve)
        app.get(METRICS_PATH, scrapeHandler(deps.metrics.registry, deps.log));
    if (deps.metrics)
        app.use(requestMetrics(deps.metrics.registry));
    app.use(pinoHttp({
        logger: deps.log,
        // A 503 is an answer the API means to give (the database is away, a view not ready): the
        // access line says it at info; the error handler reports the outage itself, once a second.
        customLogLevel: (_req, res, err) => {
            if (res.statusCode === 503 && !err)
                return 'info';
            return err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
        },
        // The path only: a GET's query string holds its tenant and filter values, which no log keeps.
        serializers: { req: withoutQuery },
        genReqId: (req, res) => {
            const given = req.headers['x-request-id'];
            const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
            res.setHeader('X-Request-Id', id);
            return id;
        },
    }));
    app.use(healthRoutes(deps.health, deps.retryAfterSeconds, deps.healthCacheMs));
    app.use(openApiRoutes());
    if (deps.pages) {
        app.use(docsRoutes(deps.pages.swaggerUi));
        app.use(dashboardRoutes({ assets: deps.pages, devTokens: deps.devTokens !== undefined }));
    }
    if (deps.devTokens)
        app.use(devTokenRoutes(deps.devTokens));
    app.use(TOPIC_PATH, routeGate(TOPIC_PATH));
    // The token and the ACL first: an anonymous or unauthorised request costs no body parsing (up to
    // 64 KiB after decompression), only its headers.
    app.use(TOPIC_PATH, authenticate(deps.keys, deps.verifiedTokens, deps.tokenRules));
    // Then a place among the user's requests under way: one user's many requests wait (or are refused)
    // before anything else is done for them, so others' requests do not wait behind their work.
    if (deps.inFlight)
        app.use(TOPIC_PATH, inFlightGate(deps.inFlight, deps.retryAfterSeconds));
    app.use(TOPIC_PATH, resolveTopic, authorizeTopic(deps.acl));
    // A raw page the admission budget refuses now is refused before its body is read.
    if (deps.admission)
        app.use(TOPIC_PATH, rawAdmissionCheck(deps.admission));
    app.use(TOPIC_PATH, jsonBody());
    app.use(rawStatsRoutes({ executor: deps.executor, now, admission: deps.admission }));
    app.use(queryRoutes({
        executor: deps.executor,
        parts: deps.parts ?? new PartsCache(),
        now,
        realtime: deps.realtime ?? (() => true),
        admission: deps.admission,
        schedules: deps.refreshSchedules,
    }));
    app.use(notFoundRoute);
    app.use(errorHandler(deps.retryAfterSeconds));
    return app;
}
//# sourceMappingURL=app.js.map