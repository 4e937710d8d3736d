/**
 * The one place that reads the environment. Everything else receives a typed `Config`.
 * Each variable is parsed with zod once, at start-up; a bad value fails fast with a message
 * that names the variable.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { cronProblem } from "./cron.js";
import { z } from 'zod';
/** Where the API's /metrics is served unless METRICS_PORT says otherwise: off the public PORT. */
export const DEFAULT_METRICS_PORT = 9465;
/** DB_POOLER's values (src/db/session-mode.ts). */
export const DB_POOLER_MODES = ['auto', 'none', 'transaction'];
/** REFRESH_LONG_WRITER_MS's default: a writer transaction on the jobs table open for 5 minutes is named. */
export const LONG_WRITER_MS = 300_000;
/** Default byte bound of the parts cache (src/read/parts-cache.ts). */
export const PARTS_CACHE_MAX_BYTES = 64 * 1024 * 1024;
/** Default byte bound of the verified-token cache (src/auth/verified-tokens.ts): about 2,500 entries with short subjects. */
export const VERIFIED_TOKENS_MAX_BYTES = 1024 * 1024;
const int = (min, max) => z.coerce.number().int().min(min).max(max);
/** A comma-separated list of non-empty values, blanks around commas ignored. */
const list = z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string()).min(1, 'must list at least one value (comma-separated)'));
const EnvSchema = z.object({
    /** postgres:// URL of an existing database. Unset: `npm start` runs an embedded PostgreSQL under DATA_DIR. */
    DATABASE_URL: z
        .string()
        .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL')
        .optional(),
    /**
     * Streaming read replicas of DATABASE_URL (one postgres:// URL or a comma-separated list): every API
     * read goes to them, round-robin per request; migrations, refreshes and the worker stay on
     * DATABASE_URL. Unset: every read goes to DATABASE_URL.
     */
    DATABASE_READ_URL: list
        .pipe(z.array(z.string().refine((v) => /^postgres(ql)?:\/\//.test(v), 'each must be a postgres:// or postgresql:// URL')))
        .optional(),
    /** A replica further behind than this (ms) turns /health 503 `degraded` (and, per REPLICA_LAG_FALLBACK, takes no reads). */
    REPLICA_MAX_LAG_MS: int(0, 86_400_000).default(30_000),
    /** `primary`: a replica past REPLICA_MAX_LAG_MS takes no reads until it is back under it (other replicas first, then the primary); `none`: it keeps answering. */
    REPLICA_LAG_FALLBACK: z.enum(['primary', 'none']).default('primary'),
    /** When no replica can be reached: `primary` reads from DATABASE_URL; `none` answers 503 `database`. */
    REPLICA_FAILOVER: z.enum(['primary', 'none']).default('primary'),
    /** How long a replica whose connection failed is left out before one request tries it again (ms). */
    REPLICA_RETRY_MS: int(100, 600_000).default(5_000),
    /** HTTP port of the API. */
    PORT: int(0, 65535).default(3000),
    /** Folder holding config.json and access.json in the upstream gateway's formats. */
    CONF_DIR: z.string().min(1).default('conf'),
    /** How far V8 grows the heap past what a full collection left live, in percent (src/core/heap.ts); 0: V8's own factor. */
    HEAP_GROWING_PERCENT: int(0, 1000).default(100),
    /** pino level. */
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** `production` forbids the development signing key fallback. */
    NODE_ENV: z.string().default('development'),
    /** Overrides config.json `token_public_keys_url`: an http(s) URL or a file path. */
    TOKEN_PUBLIC_KEYS_URL: z.string().min(1).optional(),
    /**
     * Token claim checks beyond RS256, exp and nbf, each off when unset, as in the upstream gateway:
     * TOKEN_AUDIENCE and TOKEN_ISSUER list the accepted `aud` and `iss` values (comma-separated; a token
     * must carry one of them), TOKEN_REQUIRE_EXP=true refuses a token without `exp`.
     */
    TOKEN_AUDIENCE: list.optional(),
    TOKEN_ISSUER: list.optional(),
    TOKEN_REQUIRE_EXP: z.enum(['true', 'false']).default('false'),
    /** Overrides config.json `access_config`: a path to access.json. */
    ACCESS_CONFIG: z.string().min(1).optional(),
    /** Local state of the all-in-one mode: embedded PostgreSQL data and the development key pair. */
    DATA_DIR: z.string().min(1).default('.data'),
    /** Port of the embedded PostgreSQL (all-in-one mode only). */
    EMBEDDED_PG_PORT: int(1, 65535).default(54329),
    /**
     * API processes serving PORT (node:cluster; `npm start` against a DATABASE_URL): a number, or `auto`
     * for one per CPU (os.availableParallelism()). 1: one process, no cluster. Each opens up to
     * DB_POOL_MAX sessions.
     */
    WEB_CONCURRENCY: z
        .string()
        .regex(/^(auto|[1-9]\d*)$/, "must be a whole number of processes (1 or more), or 'auto' (one per CPU)")
        .transform((v) => (v === 'auto' ? availableParallelism() : Number(v)))
        .pipe(z.number().max(64, 'must be at most 64'))
        .default(1),
    /** Upper bound of API connections per process (default 10; 1 in the Lambda, one request at a time per instance). */
    DB_POOL_MAX: int(1, 100).default(10),
    /** Per-statement limit on API reads; a slower read answers 503 rather than hanging. */
    DB_STATEMENT_TIMEOUT_MS: int(100, 600_000).default(5_000),
    /**
     * What sits between the API and PostgreSQL (src/db/session-mode.ts). `none`: nothing, or a
     * session-mode pooler (settings in the startup packet, named statements). `transaction`: a
     * transaction-mode pooler such as PgBouncer (settings by SET LOCAL per statement, unnamed
     * statements). `auto`: `none`, switching to `transaction` with one warning when the server refuses
     * the startup parameters the way PgBouncer does.
     */
    DB_POOLER: z.enum(DB_POOLER_MODES).default('auto'),
    /**
     * Named prepared statements one API connection keeps (src/db/prepared.ts): a request shape's
     * statement is parsed and planned once per connection; past this many, the least recently used is
     * DEALLOCATEd. 0: every statement unnamed (parsed and planned per request).
     */
    DB_PREPARED_MAX: int(0, 1000).default(32),
    /** How long the API waits for a connection before answering 503. */
    DB_CONNECT_TIMEOUT_MS: int(100, 120_000).default(3_000),
    /** Seconds announced in Retry-After when the database is unavailable. */
    RETRY_AFTER_SECONDS: int(1, 3600).default(5),
    /** How long an API process trusts the view version it read last before reading it again (0: every request). */
    VIEW_STATE_TTL_MS: int(0, 60_000).default(1_000),
    /**
     * Statements reading the base tables (the raw endpoint; compiled reads beyond the window's edges)
     * one API process runs at once, all users together (src/core/admission.ts); the next answers 429.
     * Default: half of DB_POOL_MAX (at least 1), so covered reads always find connections.
     */
    ADMISSION_GLOBAL_MAX: int(1, 1000).optional(),
    /**
     * Of those, how many one user (token subject) may have under way at once. 1 (it was 2): with one
     * heavy answer at a time per user, other users' covered reads kept their p99 within 2x of theirs
     * alone beside a heavy user who follows Retry-After (docs/BENCHMARKS.md, "2026-12-07 (3)").
     */
    ADMISSION_USER_MAX: int(1, 1000).default(1),
    /**
     * A refusal for a user's own limit (ADMISSION_USER_MAX, ADMISSION_USER_SHARE) is answered after this
     * many milliseconds, so a client that sends again at once is paced (docs/BENCHMARKS.md, issue 26,
     * "2026-12-07 (4)"); 0: at once.
     */
    ADMISSION_REFUSAL_HOLD_MS: int(0, 60_000).default(1_000),
    /**
     * A time budget per user (src/admission.ts): the share of one connection's time one user's reads
     * of the base tables may hold on average (0.25: a quarter); past it, 429 until the share is earned
     * back. Unset: no time budget, only ADMISSION_USER_MAX.
     */
    ADMISSION_USER_SHARE: z.coerce.number().gt(0, 'must be more than 0').max(1000, 'must be at most 1000').optional(),
    /** The time budget's capacity: milliseconds of such reads a user may spend at once after being idle. */
    ADMISSION_USER_BURST_MS: int(1, 3_600_000).default(5_000),
    /** Above this event loop utilization (0-1) no read of the base tables is admitted (src/admission.ts). Unset: no such check. */
    ADMISSION_MAX_LOOP_LOAD: z.coerce.number().gt(0, 'must be more than 0').max(1, 'must be at most 1').optional(),
    /**
     * Requests of one user (token subject) one API process works on at once, whatever they ask
     * (src/core/in-flight.ts); the next ones wait, first in first out, up to INFLIGHT_USER_QUEUE, and
     * past that answer 429. 0: no such bound.
     */
    INFLIGHT_USER_MAX: int(0, 1000).default(4),
    /** Requests of one user that may wait for a place under INFLIGHT_USER_MAX; beyond them, 429 with Retry-After. */
    INFLIGHT_USER_QUEUE: int(0, 10_000).default(16),
    /** Bytes an API process's parts cache may hold (segments, windows, tails; keys included). */
    PARTS_CACHE_MAX_BYTES: int(65_536, 16 * 1024 ** 3).default(PARTS_CACHE_MAX_BYTES),
    /** Bytes of the parts cache one user's filtered or empty results may hold (default: an eighth of PARTS_CACHE_MAX_BYTES). */
    PARTS_CACHE_USER_MAX_BYTES: int(4_096, 16 * 1024 ** 3).optional(),
    /** Bytes the cache of verified tokens may hold (hashes of the tokens, their users; src/auth/verified-tokens.ts). */
    VERIFIED_TOKENS_MAX_BYTES: int(4_096, 1024 ** 3).default(VERIFIED_TOKENS_MAX_BYTES),
    /** Statement timeout of one materialized view refresh. */
    REFRESH_STATEMENT_TIMEOUT_MS: int(100, 3_600_000).default(600_000),
    /** Lock timeout of one materialized view refresh. */
    REFRESH_LOCK_TIMEOUT_MS: int(10, 600_000).default(10_000),
    /** JSON object view name -> cron expression, overriding the registry's schedules. */
    REFRESH_SCHEDULES: z.string().optional(),
    /** On SIGTERM, how long the worker lets a running refresh finish before cancelling it (refresh keeps the old data). */
    REFRESH_STOP_TIMEOUT_MS: int(1_000, 600_000).default(20_000),
    /**
     * A writer transaction on the jobs table open longer than this is named (pid, age) in the worker's
     * log and counted in a metric at each refresh; its ids are held back meanwhile, it is never ended.
     */
    REFRESH_LONG_WRITER_MS: int(1_000, 604_800_000).default(LONG_WRITER_MS),
    /**
     * `on`: compiled queries over the runs topic count every committed row (the rows the last refresh
     * has not absorbed are read with the answer); `off`: every answer is as of the last refresh.
     */
    REALTIME: z.enum(['on', 'off']).default('on'),
    /** Comma-separated compiled queries that answer as of the last refresh even when REALTIME is on. */
    REALTIME_OFF: z
        .string()
        .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
        // Names only: that each is a compiled query is checked where the registry is wired in
        // (src/runtime.ts, checkQueryNames), so that configuration imports nothing of ours.
        .pipe(z.array(z.string().regex(/^[a-z][a-z0-9_]*$/, { error: 'must be a compiled query name (lower case, digits, _)' })))
        .default([]),
    /** Rows the all-in-one mode seeds into an empty database. */
    DEMO_RUNS: int(0, 10_000_000).default(20_000),
    /** How long a client may take to send a request's headers (Node's headersTimeout); then 408 and the connection closes. */
    HTTP_HEADERS_TIMEOUT_MS: int(100, 600_000).default(10_000),
    /** How long a client may take to send a whole request, body included (Node's requestTimeout); then 408 and the connection closes. */
    HTTP_REQUEST_TIMEOUT_MS: int(100, 600_000).default(30_000),
    /** How long an idle keep-alive connection stays open (Node's keepAliveTimeout); behind a load balancer, longer than its idle timeout. */
    HTTP_KEEP_ALIVE_TIMEOUT_MS: int(100, 600_000).default(5_000),
    /** `on`: GET /metrics answers in the Prometheus text format, without auth (API and worker); `off`: no metrics are kept or served. */
    METRICS: z.enum(['on', 'off']).default('on'),
    /**
     * The API's /metrics on a small server of its own on this port, and not on PORT (the public one);
     * 0: any free port, logged. `public`: on PORT, beside the API, without auth (opt-in).
     */
    METRICS_PORT: z.union([z.literal('public'), int(0, 65535)]).default(DEFAULT_METRICS_PORT),
    /** Port of the worker's /metrics server (`npm run worker`; the all-in-one mode serves the worker's metrics on the API's /metrics). 0: any free port, logged. */
    WORKER_METRICS_PORT: int(0, 65535).default(9464),
});
const FileConfigSchema = z
    .object({
    token_public_keys_url: z.string().min(1).optional(),
    access_config: z.string().min(1).optional(),
})
    .passthrough();
export class ConfigError extends Error {
    name = 'ConfigError';
}
function describe(issues) {
    return issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}
function readFileConfig(confDir) {
    const file = path.join(confDir, 'config.json');
    if (!existsSync(file))
        return {};
    let raw;
    try {
        raw = JSON.parse(readFileSync(file, 'utf8'));
    }
    catch (err) {
        throw new ConfigError(`${file} is not valid JSON: ${err.message}`);
    }
    const parsed = FileConfigSchema.safeParse(raw);
    if (!parsed.success)
        throw new ConfigError(`${file}: ${describe(parsed.error.issues)}`);
    return parsed.data;
}
/**
 * The warnings a deployment (DATABASE_URL or NODE_ENV=production) gets at start-up, one line each,
 * for the token checks it leaves off. They stay warnings rather than refusals: the upstream gateway
 * checks none of them, and identity providers in use with it issue tokens without `aud` (or with an
 * `aud` nobody has configured yet), so refusing would break every migration from it on its first
 * start; a warning each start makes the gap visible without locking anyone out (docs/ARCHITECTURE.md).
 */
export function tokenRuleWarnings(config) {
    if (!config.production && config.databaseUrl === undefined)
        return [];
    const out = [];
    if (!config.token.audience) {
        out.push('TOKEN_AUDIENCE is not set: tokens are accepted whatever their aud claim, so a token your identity provider issued for another application works here too');
    }
    if (!config.token.issuer)
        out.push('TOKEN_ISSUER is not set: tokens are accepted whatever their iss claim (any issuer whose key is in the key set)');
    if (!config.token.requireExp)
        out.push('TOKEN_REQUIRE_EXP is not true: a token without exp is accepted until its signing key is rotated');
    return out;
}
const SchedulesSchema = z.record(z.string(), z.string().min(1).superRefine((cron, ctx) => {
    const problem = cronProblem(cron);
    if (problem)
        ctx.addIssue({ code: 'custom', message: problem });
}));
/**
 * Builds the configuration from an environment (process.env by default). Throws ConfigError naming
 * the bad variable. `defaults` replace the built-in default of a variable the environment leaves
 * unset (the Lambda's DB_POOL_MAX of 1).
 */
export function loadConfig(env = process.env, defaults = {}) {
    // Empty strings count as unset, as shells often export VAR= to clear a value.
    const cleaned = { ...defaults, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) };
    const parsed = EnvSchema.safeParse(cleaned);
    if (!parsed.success)
        throw new ConfigError(`invalid configuration: ${describe(parsed.error.issues)}`);
    const e = parsed.data;
    // A renamed variable left set would otherwise be ignored without a word: the bound it meant is gone.
    if (cleaned.PARTS_CACHE_MAX_ROWS !== undefined) {
        throw new ConfigError('invalid configuration: PARTS_CACHE_MAX_ROWS: no longer read; the parts cache is bounded in bytes by PARTS_CACHE_MAX_BYTES (default 67108864)');
    }
    // Node refuses a headers timeout longer than the request timeout; say so in the variables' names.
    if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
        throw new ConfigError('invalid configuration: HTTP_HEADERS_TIMEOUT_MS: must not be longer than HTTP_REQUEST_TIMEOUT_MS');
    }
    // Two servers cannot share a port; leaving METRICS_PORT unset is how /metrics goes on PORT.
    if (e.METRICS_PORT !== 'public' && e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT) {
        throw new ConfigError("invalid configuration: METRICS_PORT: must differ from PORT (METRICS_PORT=public serves /metrics on PORT)");
    }
    if (e.PARTS_CACHE_USER_MAX_BYTES !== undefined && e.PARTS_CACHE_USER_MAX_BYTES > e.PARTS_CACHE_MAX_BYTES) {
        throw new ConfigError('invalid configuration: PARTS_CACHE_USER_MAX_BYTES: must not be larger than PARTS_CACHE_MAX_BYTES');
    }
    const file = readFileConfig(e.CONF_DIR);
    let schedules = {};
    if (e.REFRESH_SCHEDULES) {
        let raw;
        try {
            raw = JSON.parse(e.REFRESH_SCHEDULES);
        }
        catch {
            throw new ConfigError('invalid configuration: REFRESH_SCHEDULES: must be a JSON object of view name to cron expression');
        }
        const s = SchedulesSchema.safeParse(raw);
        if (!s.success)
            throw new ConfigError(`invalid configuration: REFRESH_SCHEDULES: ${describe(s.error.issues)}`);
        schedules = s.data;
    }
    // Paths inside config.json are relative to the working directory, as in the upstream gateway.
    const resolveConf = (p) => (/^https?:\/\//.test(p) ? p : path.resolve(p));
    const keysUrl = e.TOKEN_PUBLIC_KEYS_URL ?? file.token_public_keys_url;
    return Object.freeze({
        databaseUrl: e.DATABASE_URL,
        replicas: Object.freeze({
            urls: Object.freeze(e.DATABASE_READ_URL ?? []),
            maxLagMs: e.REPLICA_MAX_LAG_MS,
            lagFallback: e.REPLICA_LAG_FALLBACK,
            failover: e.REPLICA_FAILOVER,
            retryMs: e.REPLICA_RETRY_MS,
        }),
        port: e.PORT,
        webConcurrency: e.WEB_CONCURRENCY,
        confDir: e.CONF_DIR,
        logLevel: e.LOG_LEVEL,
        heapGrowingPercent: e.HEAP_GROWING_PERCENT,
        production: e.NODE_ENV === 'production',
        tokenPublicKeysUrl: keysUrl === undefined ? undefined : resolveConf(keysUrl),
        token: Object.freeze({
            audience: e.TOKEN_AUDIENCE && Object.freeze(e.TOKEN_AUDIENCE),
            issuer: e.TOKEN_ISSUER && Object.freeze(e.TOKEN_ISSUER),
            requireExp: e.TOKEN_REQUIRE_EXP === 'true',
        }),
        accessConfigPath: e.ACCESS_CONFIG ?? (file.access_config ? resolveConf(file.access_config) : path.join(e.CONF_DIR, 'access.json')),
        dataDir: e.DATA_DIR,
        embeddedPgPort: e.EMBEDDED_PG_PORT,
        db: Object.freeze({
            poolMax: e.DB_POOL_MAX,
            statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
            connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
            retryAfterSeconds: e.RETRY_AFTER_SECONDS,
            pooler: e.DB_POOLER,
            preparedMax: e.DB_PREPARED_MAX,
        }),
        partsCache: Object.freeze({
            stateTtlMs: e.VIEW_STATE_TTL_MS,
            maxBytes: e.PARTS_CACHE_MAX_BYTES,
            userMaxBytes: e.PARTS_CACHE_USER_MAX_BYTES ?? Math.floor(e.PARTS_CACHE_MAX_BYTES / 8),
        }),
        verifiedTokensMaxBytes: e.VERIFIED_TOKENS_MAX_BYTES,
        inFlight: Object.freeze({ perUser: e.INFLIGHT_USER_MAX, queuePerUser: e.INFLIGHT_USER_QUEUE }),
        admission: Object.freeze({
            globalMax: e.ADMISSION_GLOBAL_MAX ?? Math.max(1, Math.floor(e.DB_POOL_MAX / 2)),
            userMax: e.ADMISSION_USER_MAX,
            ...(e.ADMISSION_REFUSAL_HOLD_MS > 0 ? { refusalHoldMs: e.ADMISSION_REFUSAL_HOLD_MS } : {}),
            ...(e.ADMISSION_USER_SHARE === undefined ? {} : { userShare: e.ADMISSION_USER_SHARE, burstMs: e.ADMISSION_USER_BURST_MS }),
            ...(e.ADMISSION_MAX_LOOP_LOAD === undefined ? {} : { maxLoopLoad: e.ADMISSION_MAX_LOOP_LOAD }),
        }),
        refresh: Object.freeze({
            statementTimeoutMs: e.REFRESH_STATEMENT_TIMEOUT_MS,
            lockTimeoutMs: e.REFRESH_LOCK_TIMEOUT_MS,
            schedules: Object.freeze(schedules),
            stopTimeoutMs: e.REFRESH_STOP_TIMEOUT_MS,
            longWriterMs: e.REFRESH_LONG_WRITER_MS,
        }),
        demoRuns: e.DEMO_RUNS,
        http: Object.freeze({
            headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
            requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
            keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
        }),
        realtime: Object.freeze({ enabled: e.REALTIME === 'on', off: Object.freeze(e.REALTIME_OFF) }),
        metrics: Object.freeze({ enabled: e.METRICS === 'on', port: e.METRICS_PORT === 'public' ? undefined : e.METRICS_PORT, workerPort: e.WORKER_METRICS_PORT }),
    });
}
//# sourceMappingURL=config.js.map