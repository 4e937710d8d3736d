import { Router } from 'express';
import { ValidationError } from '../../core/errors.ts';
import type { Executor } from '../../db/executor.ts';
import { RAW_STATS_TOPICS } from '../../db/tables.ts';
import { RawStatsBody, readRawPageJson, readRawStats, resolveRequest } from '../../raw/raw-stats.ts';
import { sendRawCsvPage, sendRawJsonPage } from '../answer.ts';
import { takeFormat } from '../format.ts';
import { userOf } from '../auth.ts';
import { accessOf, topicOf } from '../topic.ts';
import type { Admission } from '../../core/admission.ts';
import { YIELD_FROM_ROWS, yieldToLoop } from '../../core/yield.ts';
import { bodyObject, parseOrThrow } from '../../core/validation.ts';

/**
 * POST /stats/{topic_name}: raw rows, the upstream contract. Mounted behind auth, topic and ACL.
 * `format` (body) or Accept: text/csv answers CSV, the paging in X-Next-Cursor / X-Has-More / X-Limit.
 */
export function rawStatsRoutes(deps: { executor: Executor; now: () => number; admission?: Admission }): Router {
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
    const admit = <T>(read: () => Promise<T>) => (deps.admission ? deps.admission.run(userOf(res), read) : read());
    // JSON: the rows come as JSON text from PostgreSQL, so the event loop only joins them (src/raw/raw-stats.ts).
    if (format === 'json') {
      const page = await admit(() => readRawPageJson(executor, request, accessOf(res)));
      // The page was joined in this task; it is sent after a turn of the loop (src/core/yield.ts).
      if (page.rowCount >= YIELD_FROM_ROWS) await yieldToLoop();
      sendRawJsonPage(res, page);
    }
    else sendRawCsvPage(res, { topic, request, page: await admit(() => readRawStats(executor, request, accessOf(res))) });
  });
  return router;
}
