import { Histogram } from 'prom-client';
import { SUPPORTED_QUERIES } from "../declarations/index.js";
import { queryNameOfPath } from "../declarations/route.js";
import { metricOf } from "./registry.js";
export const REQUEST_DURATION = 'eventstats_http_request_duration_seconds';
/** Seconds: a cached answer takes a millisecond or two, the statement timeout is 5 s by default. */
const BUCKETS = Object.freeze([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
const QUERY_NAMES = new Set(SUPPORTED_QUERIES.map((q) => q.name));
const GATE = Symbol('eventstats.metrics.gate');
/**
 * The route label: the pattern of the route that answered; for a request refused before it reached
 * one (no token, the ACL, an unknown topic, a body too large), the pattern of the gate that refused
 * it (routeGate); '' for a path no route serves.
 */
export function routeOf(req) {
    const route = req.route;
    if (typeof route?.path === 'string')
        return req.baseUrl + route.path;
    return req[GATE] ?? '';
}
/** The query label: the name in /stats/{topic}/query/{name} when it is a registered compiled query, else ''. */
export function queryOf(url) {
    const name = queryNameOfPath(url);
    return name !== undefined && QUERY_NAMES.has(name) ? name : '';
}
/** Marks the requests under `pattern`, mounted at it, so that a refusal before any route is labelled with it. */
export function routeGate(pattern) {
    return (req, _res, next) => {
        req[GATE] = pattern;
        next();
    };
}
/**
 * Times every request from its arrival at the app to its last byte handed to the socket. Requests
 * whose client left before the answer was sent are not counted (they have no status).
 */
export function requestMetrics(registry) {
    const histogram = metricOf(registry, REQUEST_DURATION, () => new Histogram({
        name: REQUEST_DURATION,
        help: 'Time from a request reaching the app to its answer, by method, Express route pattern, compiled query and status code.',
        labelNames: ['method', 'route', 'query', 'status'],
        buckets: [...BUCKETS],
        registers: [registry],
    }));
    return (req, res, next) => {
        const end = histogram.startTimer();
        res.once('finish', () => end({ method: req.method, route: routeOf(req), query: queryOf(req.originalUrl), status: res.statusCode }));
        next();
    };
}
//# sourceMappingURL=requests.js.map