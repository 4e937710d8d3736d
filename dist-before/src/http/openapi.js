/**
 * GET /api: the OpenAPI 3.1 description of this service. Request bodies are generated from the same
 * zod schemas that validate requests (the compiled queries' params and RawStatsBody), and there is one
 * path per registered compiled query, so the document cannot drift from what the routes accept.
 * It depends only on constants, so it is built once.
 */
import { Router } from 'express';
import { z } from 'zod';
import { RAW_STATS_TOPICS, TOPICS } from "../db/tables.js";
import { PAGING_HEADERS } from "./answer.js";
import { BODY_LIMIT_BYTES } from "./body.js";
import { LIVE_MAX_AGE_SECONDS, PAST_MAX_AGE_SECONDS, VARY } from "./caching.js";
import { FORMAT_JSON_SCHEMA, FormatParam } from "./format.js";
import { paramsJsonSchema } from "../declarations/catalog.js";
import { SUPPORTED_QUERIES } from "../declarations/index.js";
import { MAX_WINDOW_DAYS } from "../rollup/window.js";
import { RAW_DEFAULT_LIMIT, RAW_MAX_LIMIT, RAW_MAX_WINDOW_DAYS, RawStatsBody } from "../raw/raw-stats.js";
export const OPENAPI_PATH = '/api';
/** Every ErrorType, at run time; the check below fails to compile when errors.ts gains a type this list lacks. */
export const ERROR_TYPES = Object.freeze(['validation', 'auth', 'permission', 'topic', 'route', 'database', 'not_ready', 'overloaded', 'internal']);
const _everyErrorTypeListed = true;
const ref = (name) => ({ $ref: `#/components/schemas/${name}` });
/** A zod schema's input side as JSON Schema, the way zod 4 writes it, without the `$schema` line that the document itself says. */
function fromZod(schema) {
    const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
    return json;
}
/** `format` (GET query parameter, POST body field): generated from FormatParam, which validates it, with its description. */
const FORMAT_SCHEMA = { ...fromZod(FormatParam), description: FORMAT_JSON_SCHEMA.description };
const response = (name) => ({ $ref: `#/components/responses/${name}` });
/** The error responses, by status; each names the error types it can carry. */
const ERROR_RESPONSES = {
    BadRequest: { status: '400', types: ['validation'], description: 'The request broke a documented rule; the message names the field and the rule.' },
    Unauthorized: { status: '401', types: ['auth'], description: 'No valid bearer token (missing, malformed, expired, wrong signature or algorithm, no sub).' },
    Forbidden: {
        status: '403',
        types: ['auth', 'permission'],
        description: "'auth': the user is not listed for the topic in access.json; 'permission': a filter asks for values outside the user's constraints.",
    },
    NotFound: { status: '404', types: ['topic', 'route'], description: "'topic': unknown topic; 'route': no such route." },
    PayloadTooLarge: {
        status: '413',
        types: ['validation'],
        description: `The body is larger than ${BODY_LIMIT_BYTES / 1024} kB (${BODY_LIMIT_BYTES} bytes, counted after Content-Encoding is undone).`,
    },
    RequestTimeout: {
        status: '408',
        types: ['validation'],
        description: "The request's headers or body did not arrive within the server's time limits; the connection is closed.",
    },
    TooManyRequests: {
        status: '429',
        types: ['overloaded'],
        description: 'The request would read the base tables (the raw endpoint; a compiled query whose window no pre-aggregate covers beyond its edges) while ADMISSION_USER_MAX such reads of this user, or ADMISSION_GLOBAL_MAX of all users, are under way in this process, or (with ADMISSION_USER_SHARE set) while such reads of this user have used their share of the time, or (with ADMISSION_MAX_LOOP_LOAD set) while the server is busier than that with other requests; or, whatever it asks, while INFLIGHT_USER_MAX requests of this user are under way in this process and INFLIGHT_USER_QUEUE more wait for their turn. Carries Retry-After; a covered read is refused only so. A refusal by ADMISSION_USER_MAX or ADMISSION_USER_SHARE is sent after ADMISSION_REFUSAL_HOLD_MS (1 s by default).',
    },
    Internal: { status: '500', types: ['internal'], description: 'A bug. The message never carries the error text, a stack or SQL.' },
    Unavailable: {
        status: '503',
        types: ['database', 'not_ready', 'auth'],
        description: "'database': the database is unreachable or did not answer within the statement timeout; 'not_ready': the query's materialized view has never been refreshed; 'auth': the token verification keys could not be loaded. 'database' and 'not_ready' carry Retry-After.",
    },
};
function errorResponses(...names) {
    return Object.fromEntries(names.map((n) => [ERROR_RESPONSES[n].status, response(n)]));
}
const AUTHENTICATED_ERRORS = ['Unauthorized', 'Forbidden', 'NotFound', 'Internal', 'Unavailable'];
const TOPIC_PARAMETER = {
    name: 'topic_name',
    in: 'path',
    required: true,
    description: 'The gateway topic, matched case-insensitively.',
    schema: { type: 'string', examples: Object.keys(TOPICS) },
};
function nullable(type) {
    return { type: [type, 'null'] };
}
/** One raw row of the runs topic: the upstream gateway's columns plus its computed fields. */
const RAW_ROW_FIELDS = {
    event_id: { type: 'string' },
    job_ref: { type: 'string' },
    tenant_id: { type: 'string' },
    source_app: { type: 'string' },
    source_app_version: { type: 'string' },
    environment: { type: 'string' },
    run_timestamp_start: { ...nullable('integer'), description: "the run's start (epoch ms)" },
    run_timestamp_end: { ...nullable('integer'), description: "the run's end (epoch ms)" },
    internal_id: { type: 'integer', description: "the job's id; pages are ordered by it, descending" },
    country: nullable('string'),
    catalog_id: { type: 'string' },
    status: { type: 'string', description: 'as stored: succeeded, failed, killed, skipped (case may vary)' },
    timestamp_start: { ...nullable('integer'), description: "the job's start (epoch ms)" },
    timestamp_end: { ...nullable('integer'), description: "the job's end (epoch ms)" },
    message: nullable('string'),
    additional_info: { description: 'free-form JSON, or null' },
    run_date: { ...nullable('string'), description: "the run's UTC start day, DD-MM-YYYY" },
    run_status: {
        type: 'string',
        enum: ['succeeded', 'failed', 'no data received', 'no data produced'],
        description: "'succeeded' unless status is failed; a failure whose message mentions 'no data' or 'no records to send' is told apart",
    },
    formatted_tenant: { type: 'string', description: 'tenant_id lower-cased' },
    elapsed_time: { ...nullable('integer'), description: 'timestamp_end - timestamp_start (ms)' },
    start_time: { ...nullable('string'), description: "the job's start, UTC, YYYY-MM-DD HH:MM:SS" },
    end_time: { ...nullable('string'), description: "the job's end, UTC, YYYY-MM-DD HH:MM:SS" },
};
function objectSchema(properties, extra = {}) {
    return { type: 'object', required: Object.keys(properties), properties, ...extra };
}
/** A column type of the registry ('integer|null') as JSON Schema. */
function columnSchema(column) {
    const types = column.type.split('|');
    return { type: types.length === 1 ? types[0] : types, description: column.description };
}
/** The row schema of a query: its fixed columns, plus group_by keys where the query has them (named '<...>' in the registry). */
function rowSchema(query) {
    const fixed = query.columns.filter((c) => !c.name.startsWith('<'));
    const dynamic = query.columns.find((c) => c.name.startsWith('<'));
    return {
        type: 'object',
        required: fixed.map((c) => c.name),
        properties: Object.fromEntries(fixed.map((c) => [c.name, columnSchema(c)])),
        additionalProperties: dynamic === undefined ? false : { ...columnSchema(dynamic), description: `${dynamic.name}: ${dynamic.description}` },
    };
}
/** The body a POST to the query takes: the query's parameters (its zod schema as JSON Schema) and `format`. */
export function queryBodySchema(query) {
    const schema = paramsJsonSchema(query);
    return { ...schema, properties: { ...schema.properties, format: FORMAT_SCHEMA } };
}
/** The same parameters as GET query parameters: lists as comma lists or repeated keys (src/http/query-string.ts). */
function queryParameters(query) {
    const properties = queryBodySchema(query).properties;
    return Object.entries(properties).map(([name, schema]) => {
        const list = JSON.stringify(schema).includes('"type":"array"');
        return {
            name,
            in: 'query',
            required: false,
            schema,
            ...(list ? { style: 'form', explode: true, description: 'a list: repeat the key, or give one comma-separated value (a value cannot contain a comma: use POST)' } : {}),
        };
    });
}
const CACHE_HEADERS = {
    ETag: { description: 'CSV: strong, the SHA-256 of the format and the body; JSON: weak (W/"…"), the same over the body without meta.staleness_ms, which differs between two deliveries of one answer. Send it back in If-None-Match for a 304', schema: { type: 'string' } },
    'Cache-Control': {
        description: `private, max-age=N: at most ${LIVE_MAX_AGE_SECONDS} s for a window reaching the last minute or two, else until the view's next scheduled refresh and at most ${PAST_MAX_AGE_SECONDS} s`,
        schema: { type: 'string' },
    },
    Vary: { description: VARY, schema: { type: 'string' } },
    'Last-Modified': { description: 'when the view was last refreshed (If-Modified-Since is not honoured: a real-time answer changes between refreshes)', schema: { type: 'string' } },
};
function queryOperation(query, method) {
    const envelope = objectSchema({
        success: { const: true },
        statusCode: { const: 200 },
        topic: { const: query.topic },
        query: { const: query.name },
        params: ref('AppliedParams'),
        data: { type: 'array', items: rowSchema(query) },
        meta: ref('QueryMeta'),
    });
    const input = method === 'post'
        ? { requestBody: { required: false, content: { 'application/json': { schema: queryBodySchema(query) } } } }
        : { parameters: queryParameters(query) };
    return {
        operationId: method === 'post' ? `query_${query.name}` : `query_${query.name}_get`,
        tags: [query.topic],
        summary: `${query.name} (${query.topic})${method === 'get' ? ', parameters in the query string' : ''}`,
        description: `${query.description}\n\nServed from the materialized view \`${query.rollup.view}\`; the window is at most ${MAX_WINDOW_DAYS} days and defaults to the last 7. GET and POST take the same parameters and give the same answers and errors. \`format=csv\` (or Accept: text/csv) answers CSV: a header row, epoch-ms columns followed by an ISO-8601 \`<name>_iso\` twin, null as an empty field; errors stay JSON.`,
        security: [{ bearerAuth: [] }, { bearerHeader: [] }],
        ...input,
        responses: {
            '200': {
                description: 'The rows, the parameters applied and the freshness of the view (CSV: the rows only).',
                headers: { ...CACHE_HEADERS, 'Content-Disposition': { description: 'CSV only: attachment; filename="<query>-<topic>-<from>-<to>.csv"', schema: { type: 'string' } } },
                content: {
                    'application/json': { schema: envelope },
                    'text/csv': { schema: { type: 'string', description: 'RFC 4180, CRLF line ends, header row' } },
                },
            },
            '304': { description: 'If-None-Match names the current ETag: no body.', headers: CACHE_HEADERS },
            ...errorResponses('BadRequest', ...AUTHENTICATED_ERRORS, 'RequestTimeout', 'TooManyRequests', ...(method === 'post' ? ['PayloadTooLarge'] : [])),
        },
    };
}
function healthPath() {
    const checks = {
        type: 'object',
        description: "each check by name, with its detail: database, views and, with read replicas (DATABASE_READ_URL), replicas: { answered_by: 'replica' | 'primary' | 'none', lag_ms, replicas: [{ name, status: 'ok' | 'lagging' | 'down' | 'unknown', lag_ms }] } (a replica lagging past REPLICA_MAX_LAG_MS or down fails it: 'degraded')",
        additionalProperties: true,
    };
    return {
        get: {
            operationId: 'health',
            tags: ['service'],
            summary: 'Liveness of the database and freshness of the views',
            security: [],
            responses: {
                '200': {
                    description: 'Every check passes.',
                    content: {
                        'application/json': {
                            schema: objectSchema({ success: { const: true }, statusCode: { const: 200 }, status: { const: 'ok' }, checks }),
                        },
                    },
                },
                '503': {
                    description: "A check fails: 'unavailable' when the database does, else 'degraded' (for instance a stale view).",
                    headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
                    content: {
                        'application/json': {
                            schema: objectSchema({
                                success: { const: false },
                                statusCode: { const: 503 },
                                status: { enum: ['unavailable', 'degraded'] },
                                checks,
                                errors: {
                                    type: 'array',
                                    items: objectSchema({ type: { type: 'string', description: 'the failing check' }, message: { type: 'string' } }),
                                },
                            }),
                        },
                    },
                },
            },
        },
    };
}
/** The raw endpoint's body: RawStatsBody, and `format`. */
export function rawBodySchema() {
    const schema = z.toJSONSchema(RawStatsBody, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
    return { ...schema, properties: { ...schema.properties, format: FORMAT_SCHEMA } };
}
function rawStatsPath() {
    return {
        post: {
            operationId: 'rawStats',
            tags: ['raw'],
            summary: 'Raw job rows of a topic, paged (the upstream gateway contract)',
            description: `Supported for ${RAW_STATS_TOPICS.join(', ')} only (other known topics answer 400). Rows are ordered by internal_id descending; pass the previous page's pagination.cursor as cursor for the next one. The window is on the run's timestamp_start, inclusive, and defaults to the 7 days before now; a window longer than ${RAW_MAX_WINDOW_DAYS} days answers 400 (read a longer period window by window); limit defaults to ${RAW_DEFAULT_LIMIT} and is clamped to ${RAW_MAX_LIMIT}. A body without Content-Type is still read as JSON; unknown fields are ignored, except format (json or csv).`,
            security: [{ bearerAuth: [] }, { bearerHeader: [] }],
            parameters: [TOPIC_PARAMETER],
            requestBody: {
                required: false,
                content: { 'application/json': { schema: rawBodySchema() } },
            },
            responses: {
                '200': {
                    description: `One page of rows. As CSV (format csv, or Accept: text/csv): a header row, the same columns, each epoch-ms column followed by its ISO-8601 \`<name>_iso\` twin, additional_info as JSON text, null as an empty field; the paging in headers.`,
                    headers: {
                        [PAGING_HEADERS.cursor]: { description: 'CSV only: the cursor of the next page; absent on the last page', schema: { type: 'integer' } },
                        [PAGING_HEADERS.hasMore]: { description: 'CSV only: true or false', schema: { type: 'string', enum: ['true', 'false'] } },
                        [PAGING_HEADERS.limit]: { description: 'CSV only: the limit applied, after clamping', schema: { type: 'integer' } },
                        'Content-Disposition': { description: 'CSV only: attachment; filename="raw-<topic>-<from>-<to>[-before<cursor>].csv"', schema: { type: 'string' } },
                    },
                    content: {
                        'application/json': {
                            schema: objectSchema({
                                success: { const: true },
                                statusCode: { const: 200 },
                                data: { type: 'array', items: objectSchema(RAW_ROW_FIELDS) },
                                pagination: objectSchema({
                                    cursor: { ...nullable('integer'), description: 'the cursor of the next page; null on the last page' },
                                    has_more: { type: 'boolean' },
                                    limit: { type: 'integer', minimum: 1, maximum: RAW_MAX_LIMIT, description: 'the limit applied, after clamping' },
                                }),
                            }),
                        },
                        'text/csv': { schema: { type: 'string', description: 'RFC 4180, CRLF line ends, header row' } },
                    },
                },
                ...errorResponses('BadRequest', ...AUTHENTICATED_ERRORS, 'RequestTimeout', 'TooManyRequests', 'PayloadTooLarge'),
            },
        },
    };
}
function catalogPath() {
    const column = objectSchema({ name: { type: 'string' }, type: { type: 'string' }, description: { type: 'string' } });
    return {
        get: {
            operationId: 'listQueries',
            tags: ['queries'],
            summary: "The topic's compiled queries, with their parameters as JSON Schema and their output columns",
            security: [{ bearerAuth: [] }, { bearerHeader: [] }],
            parameters: [TOPIC_PARAMETER],
            responses: {
                '200': {
                    description: 'The catalog; empty for a topic without compiled queries.',
                    content: {
                        'application/json': {
                            schema: objectSchema({
                                success: { const: true },
                                statusCode: { const: 200 },
                                topic: { type: 'string' },
                                data: {
                                    type: 'array',
                                    items: objectSchema({
                                        name: { type: 'string' },
                                        description: { type: 'string' },
                                        parameters: { type: 'object', description: 'JSON Schema (draft 2020-12) of the request body' },
                                        columns: { type: 'array', items: column },
                                        view: { type: 'string' },
                                    }),
                                },
                            }),
                        },
                    },
                },
                ...errorResponses(...AUTHENTICATED_ERRORS),
            },
        },
    };
}
function components() {
    const errorResponseObjects = Object.fromEntries(Object.entries(ERROR_RESPONSES).map(([name, r]) => [
        name,
        {
            description: `${r.description} Error types: ${r.types.join(', ')}.`,
            ...(r.status === '503' || r.status === '429' ? { headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } } } : {}),
            content: { 'application/json': { schema: ref('ErrorEnvelope') } },
        },
    ]));
    return {
        securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An RS256-signed JWT whose sub names the user of access.json.' },
            bearerHeader: { type: 'apiKey', in: 'header', name: 'bearer', description: "The upstream gateway's bare `bearer: <jwt>` header, same token." },
        },
        headers: {
            RetryAfter: { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 1 } },
        },
        schemas: {
            ErrorEnvelope: objectSchema({
                success: { const: false },
                statusCode: { type: 'integer' },
                errors: { type: 'array', minItems: 1, items: ref('Error') },
            }),
            Error: objectSchema({ type: { type: 'string', enum: [...ERROR_TYPES] }, message: { type: 'string' } }),
            QueryMeta: objectSchema({
                view: { type: 'string', description: 'the materialized view the answer comes from' },
                refreshed_at: { ...nullable('string'), format: 'date-time', description: 'end of its last successful refresh' },
                staleness_ms: {
                    ...nullable('integer'),
                    description: "a real-time answer: 0 from the primary, or how long ago the stable-id probe began that found nothing written since the process's cached tail (under its 200 ms interval); the replica's replay lag from a replica (null: not measured yet); else now - refreshed_at",
                },
                database: {
                    type: 'string',
                    enum: ['primary', 'replica'],
                    description: 'the database that answered: the primary, or a streaming read replica (DATABASE_READ_URL)',
                },
                replica_lag_ms: {
                    ...nullable('integer'),
                    description: "from a replica: how far its replay was behind the primary, measured at most a second before (0 while it has replayed all it received; else now - the time of the last replayed commit); null from the primary",
                },
                realtime: {
                    type: 'boolean',
                    description: 'true: the answer counts every committed row (the rows the last refresh had not absorbed were read with it; deletes since then count from the next refresh); false: as of refreshed_at (the status topic, or REALTIME=off / REALTIME_OFF)',
                },
                tail_rows: { ...nullable('integer'), description: 'rows a real-time answer read beyond the last refresh (null: not real-time)' },
                source_checked_at: { ...nullable('string'), format: 'date-time', description: 'last time a refresh found the sources unchanged or refreshed them' },
                row_count: { type: 'integer' },
                truncated: { type: 'boolean', description: 'more groups exist than the limit let through' },
            }),
            AppliedParams: {
                type: 'object',
                required: ['timestamp_start', 'timestamp_end'],
                properties: { timestamp_start: { type: 'integer' }, timestamp_end: { type: 'integer' } },
                additionalProperties: true,
                description: 'The parameters as applied: defaults filled in, a single filter value turned into a list, days turned into timestamp_start/timestamp_end.',
            },
        },
        responses: errorResponseObjects,
    };
}
function buildDocument() {
    const queryPaths = Object.fromEntries(SUPPORTED_QUERIES.map((q) => [queryPath(q), { get: queryOperation(q, 'get'), post: queryOperation(q, 'post') }]));
    return {
        openapi: '3.1.0',
        info: {
            title: 'EventStats',
            version: '0.1.0',
            description: 'Read API over the event gateway tables: raw rows (the upstream contract) and compiled, pre-aggregated queries.',
        },
        jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
        tags: [
            { name: 'service' },
            { name: 'raw' },
            { name: 'queries' },
            ...[...new Set(SUPPORTED_QUERIES.map((q) => q.topic))].map((t) => ({ name: t, description: `compiled queries of ${t}` })),
        ],
        paths: {
            '/health': healthPath(),
            [OPENAPI_PATH]: {
                get: {
                    operationId: 'openapi',
                    tags: ['service'],
                    summary: 'This document',
                    security: [],
                    responses: { '200': { description: 'The OpenAPI 3.1 document.', content: { 'application/json': { schema: { type: 'object' } } } } },
                },
            },
            '/stats/{topic_name}': rawStatsPath(),
            '/stats/{topic_name}/queries': catalogPath(),
            ...queryPaths,
        },
        components: components(),
    };
}
/** The literal path of a compiled query. */
export function queryPath(query) {
    return `/stats/${query.topic}/query/${query.name}`;
}
function deepFreeze(value) {
    if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const v of Object.values(value))
            deepFreeze(v);
    }
    return value;
}
let document;
/** The document, built on first use and shared (frozen) afterwards. */
export function openApiDocument() {
    document ??= deepFreeze(buildDocument());
    return document;
}
/** GET /api, without auth. */
export function openApiRoutes() {
    const router = Router();
    router.get(OPENAPI_PATH, (_req, res) => {
        res.status(200).json(openApiDocument());
    });
    return router;
}
//# sourceMappingURL=openapi.js.map