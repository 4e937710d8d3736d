import { Router } from 'express';
import type { Executor } from '../../db/executor.ts';
import { ValidationError } from '../../errors.ts';
import { catalogOf } from '../../queries/catalog.ts';
import { prepareQuery } from '../../queries/execute.ts';
import { findQuery, queriesOf } from '../../queries/index.ts';
import type { PartsCache } from '../../queries/parts-cache.ts';
import { bodyObject } from '../../validation.ts';
import { sendOk } from '../envelope.ts';
import { accessOf, topicOf } from '../topic.ts';

/** The compiled-query routes. Mounted behind auth, topic resolution and the ACL. */
export function queryRoutes(deps: { executor: Executor; parts: PartsCache; now: () => number; realtime: (query: string) => boolean }): Router {
  const router = Router();

  router.get('/stats/:topic_name/queries', (_req, res) => {
    sendOk(res, catalogOf(topicOf(res)), { topic: topicOf(res) });
  });

  router.post('/stats/:topic_name/query/:query_name', async (req, res) => {
    const topic = topicOf(res);
    const name = String(req.params.query_name);
    const query = findQuery(topic, name);
    if (!query) {
      const supported = queriesOf(topic).map((q) => q.name);
      throw new ValidationError(
        `unknown query '${name}' for topic '${topic}'; supported: ${supported.length ? supported.join(', ') : '(none)'}`,
      );
    }
    const prepared = prepareQuery(query, bodyObject(req.body), accessOf(res), deps.now());
    const result = await prepared.run(deps.executor, deps.parts, deps.realtime(query.name));
    if (result.meta.refreshed_at) res.setHeader('Last-Modified', new Date(result.meta.refreshed_at).toUTCString());
    sendOk(res, result.data, { topic, query: query.name, params: result.params, meta: result.meta });
  });
  return router;
}
