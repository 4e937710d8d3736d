/**
 * createApp(deps): the Express app, wired and nothing else. The server, the Lambda handler and the
 * tests all build it the same way, with their own collaborators.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Registry } from 'prom-client';
import type { Admission } from './core/admission.ts';
import type { InFlight } from './core/in-flight.ts';
import type { AccessControl } from './auth/acl.ts';
import type { DevTokenIssuer } from './auth/dev-keys.ts';
import type { KeyProvider } from './auth/keys.ts';
import type { VerifiedTokens } from './auth/verified-tokens.ts';
import type { Executor } from './db/executor.ts';
import { authenticate, type TokenRules } from './http/auth.ts';
import { jsonBody } from './http/body.ts';
import { errorHandler, notFoundRoute } from './http/errors.ts';
import { healthRoutes, type HealthChecks } from './http/health.ts';
import { inFlightGate } from './http/in-flight.ts';
import { openApiRoutes } from './http/openapi.ts';
import type { PageAssets } from './http/page-assets.ts';
import { dashboardRoutes } from './http/routes/dashboard.ts';
import { devTokenRoutes } from './http/routes/dev-token.ts';
import { docsRoutes } from './http/routes/docs.ts';
import { queryRoutes } from './http/routes/queries.ts';
import { rawAdmissionCheck, rawStatsRoutes } from './http/routes/stats.ts';
import { authorizeTopic, resolveTopic } from './http/topic.ts';
import { requestMetrics, routeGate } from './metrics/requests.ts';
import { METRICS_PATH, scrapeHandler } from './http/metrics-server.ts';
import { PartsCache } from './read/parts-cache.ts';

export interface AppDeps {
  readonly executor: Executor;
  /** Whole-bucket parts cached by view version; one per process (a fresh one when absent). */
  readonly parts?: PartsCache;
  readonly keys: KeyProvider;
  /** Tokens verified lately, bounded in bytes (config VERIFIED_TOKENS_MAX_BYTES); a fresh cache when absent. */
  readonly verifiedTokens?: VerifiedTokens;
  /** Optional token claim checks (config TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_REQUIRE_EXP); none when absent. */
  readonly tokenRules?: TokenRules;
  readonly acl: AccessControl;
  readonly log: Logger;
  readonly health: HealthChecks;
  /** How long one run of the health checks answers /health (default 1 s; tests of transitions set 0). */
  readonly healthCacheMs?: number;
  readonly retryAfterSeconds: number;
  /** Admission of reads of the base tables (config ADMISSION_*; src/core/admission.ts); none counted when absent. */
  readonly admission?: Admission;
  /**
   * One user's requests under way at once, and waiting (config INFLIGHT_USER_*; src/core/in-flight.ts);
   * no bound when absent (the Lambda: one request per instance).
   */
  readonly inFlight?: InFlight;
  readonly now?: () => number;
  /** Whether a compiled query answers in real time (config REALTIME, REALTIME_OFF); all do when absent. */
  readonly realtime?: (query: string) => boolean;
  /** The browser pages GET /docs and GET /dashboard, served from these folders; none when absent (the Lambda bundle ships no such files). */
  readonly pages?: PageAssets;
  /** Signs the tokens of POST /dev/token, which exists only when this is given (src/server.ts: the all-in-one mode only). */
  readonly devTokens?: DevTokenIssuer;
  /** REFRESH_SCHEDULES (view name -> cron); the registry's schedules when absent. Bounds answers' Cache-Control. */
  readonly refreshSchedules?: Readonly<Record<string, string>>;
  /**
   * Prometheus metrics (config METRICS, METRICS_PORT): every request is timed into `registry`, and with
   * `serve` this app answers GET /metrics from it, without auth. No metrics when absent.
   */
  readonly metrics?: { readonly registry: Registry; readonly serve: boolean };
}

/** A request as pino-std-serializers renders it, without its query string (in `url`) or its parsed `query`. */
function withoutQuery(req: { url?: unknown; query?: unknown; [key: string]: unknown }): Record<string, unknown> {
  const { query: _query, ...rest } = req;
  return { ...rest, url: typeof req.url === 'string' ? req.url.split('?')[0] : req.url };
}

/** Requests refused under it before reaching a route (auth, topic, ACL, body) are labelled with it in the metrics. */
const TOPIC_PATH = '/stats/:topic_name';
const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function createApp(deps: AppDeps): Express {
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
  if (deps.metrics?.serve) app.get(METRICS_PATH, scrapeHandler(deps.metrics.registry, deps.log));
  if (deps.metrics) app.use(requestMetrics(deps.metrics.registry));
  app.use(
    pinoHttp({
      logger: deps.log,
      // A 503 is an answer the API means to give (the database is away, a view not ready): the
      // access line says it at info; the error handler reports the outage itself, once a second.
      customLogLevel: (_req, res, err) => {
        if (res.statusCode === 503 && !err) return 'info';
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
    }),
  );
  app.use(healthRoutes(deps.health, deps.retryAfterSeconds, deps.healthCacheMs));
  app.use(openApiRoutes());
  if (deps.pages) {
    app.use(docsRoutes(deps.pages.swaggerUi));
    app.use(dashboardRoutes({ assets: deps.pages, devTokens: deps.devTokens !== undefined }));
  }
  if (deps.devTokens) app.use(devTokenRoutes(deps.devTokens));

  app.use(TOPIC_PATH, routeGate(TOPIC_PATH));
  // The token and the ACL first: an anonymous or unauthorised request costs no body parsing (up to
  // 64 KiB after decompression), only its headers.
  app.use(TOPIC_PATH, authenticate(deps.keys, deps.verifiedTokens, deps.tokenRules));
  // Then a place among the user's requests under way: one user's many requests wait (or are refused)
  // before anything else is done for them, so others' requests do not wait behind their work.
  if (deps.inFlight) app.use(TOPIC_PATH, inFlightGate(deps.inFlight, deps.retryAfterSeconds));
  app.use(TOPIC_PATH, resolveTopic, authorizeTopic(deps.acl));
  // A raw page the admission budget refuses now is refused before its body is read.
  if (deps.admission) app.use(TOPIC_PATH, rawAdmissionCheck(deps.admission));
  app.use(TOPIC_PATH, jsonBody());
  app.use(rawStatsRoutes({ executor: deps.executor, now, admission: deps.admission }));
  app.use(
    queryRoutes({
      executor: deps.executor,
      parts: deps.parts ?? new PartsCache(),
      now,
      realtime: deps.realtime ?? (() => true),
      admission: deps.admission,
      schedules: deps.refreshSchedules,
    }),
  );

  app.use(notFoundRoute);
  app.use(errorHandler(deps.retryAfterSeconds));
  return app;
}
