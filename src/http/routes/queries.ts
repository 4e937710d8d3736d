import { Router, type Request, type Response } from 'express';
import type { Admission } from '../../core/admission.ts';
import { YIELD_FROM_ROWS, yieldToLoop } from '../../core/yield.ts';
import type { Executor } from '../../db/executor.ts';
import { ValidationError } from '../../core/errors.ts';
import { catalogOf } from '../../declarations/catalog.ts';
import { prepareQuery } from '../../read/execute.ts';
import { findQuery, queriesOf, viewSchedule } from '../../declarations/index.ts';
import { QUERY_ROUTE } from '../../declarations/route.ts';
import type { PartsCache } from '../../read/parts-cache.ts';
import type { CompiledQuery } from '../../declarations/types.ts';
import { bodyObject } from '../../core/validation.ts';
import { sendQueryAnswer } from '../answer.ts';
import { sendOk } from '../envelope.ts';
import { takeFormat } from '../format.ts';
import { queryStringParams } from '../query-string.ts';
import { userOf } from '../auth.ts';
import { accessOf, topicOf } from '../topic.ts';

export interface QueryRouteDeps {
  readonly executor: Executor;
  readonly parts: PartsCache;
  readonly now: () => number;
  readonly realtime: (query: string) => boolean;
  /** Admission of reads of the base tables (src/core/admission.ts); none counted when absent. */
  readonly admission?: Admission;
  /** REFRESH_SCHEDULES: view name -> cron, overriding the registry's (bounds Cache-Control max-age). */
  readonly schedules?: Readonly<Record<string, string>>;
}

/** A GET carries its parameters in the query string; a body there would be ignored silently, so it is refused. */
function refuseBody(req: Request): void {
  const body: unknown = req.body;
  const empty = body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0);
  if (!empty) throw new ValidationError('body: a GET takes its parameters in the query string; send a body with POST');
}

/**
 * The compiled-query routes. Mounted behind auth, topic resolution and the ACL. GET and POST are one
 * handler: the query string becomes the object a body would be (src/http/query-string.ts), and
 * both go through the same schema, execution and answer.
 */
export function queryRoutes(deps: QueryRouteDeps): Router {
  const router = Router();

  router.get('/stats/:topic_name/queries', (_req, res) => {
    sendOk(res, catalogOf(topicOf(res)), { topic: topicOf(res) });
  });

  const lookup = (req: Request, res: Response): CompiledQuery => {
    const topic = topicOf(res);
    const name = String(req.params.query_name);
    const query = findQuery(topic, name);
    if (!query) {
      const supported = queriesOf(topic).map((q) => q.name);
      throw new ValidationError(
        `unknown query '${name}' for topic '${topic}'; supported: ${supported.length ? supported.join(', ') : '(none)'}`,
      );
    }
    return query;
  };

  const answer = async (req: Request, res: Response, query: CompiledQuery, input: Record<string, unknown>): Promise<void> => {
    const { format, params } = takeFormat(req, input);
    const now = deps.now();
    const prepared = prepareQuery(query, params, accessOf(res), now);
    // With read replicas, every statement of this answer goes to one database (src/db/read-targets.ts).
    const executor = (await deps.executor.session?.()) ?? deps.executor;
    const result = await prepared.run(executor, deps.parts, deps.realtime(query.name), userOf(res), deps.admission);
    // A large answer was merged in this task; it is formatted after a turn of the loop (src/core/yield.ts).
    if (result.meta.row_count >= YIELD_FROM_ROWS) await yieldToLoop();
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
