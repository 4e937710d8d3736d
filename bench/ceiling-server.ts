/**
 * The HTTP ceiling: the API's HTTP stack with nothing behind it. Express 5, the same pino-http and
 * express.json middleware as src/app.ts, and one POST route answering a constant JSON body — a
 * captured compiled-query answer, re-serialised per request as the API does — so compiled req/s can
 * be read as a fraction of what this process could serve at all. No auth, validation or database.
 *   PORT=... CEILING_BODY_FILE=answer.json LOG_LEVEL=warn node --import tsx bench/ceiling-server.ts
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import express from 'express';
import pg from 'pg';
import { pinoHttp } from 'pino-http';
import { createLogger } from '../src/core/log.ts';

const port = Number(process.env.PORT);
const bodyFile = process.env.CEILING_BODY_FILE;
if (!Number.isInteger(port) || port <= 0 || !bodyFile) {
  process.stderr.write('ceiling-server: PORT and CEILING_BODY_FILE are required\n');
  process.exit(2);
}
const answer = JSON.parse(readFileSync(bodyFile, 'utf8')) as unknown;
const log = createLogger(process.env.LOG_LEVEL ?? 'warn', 'eventstats-ceiling');
const databaseUrl = process.env.CEILING_DATABASE_URL;
// The API's pool size (bench/harness.ts API_POOL_MAX), idle connections kept so no request pays a connect.
const pool = databaseUrl ? new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.CEILING_POOL_MAX ?? 16), idleTimeoutMillis: 0 }) : undefined;
pool?.on('error', (err) => log.warn({ err }, 'idle ceiling connection failed'));

// Mirrors createApp: same settings, same request-id handling, same body parser.
const REQUEST_ID = /^[\w.:-]{1,128}$/;
const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(
  pinoHttp({
    logger: log,
    genReqId: (req, res) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
  }),
);
app.get('/health', (_req, res) => {
  res.json({ status: 'ok' });
});
app.use('/stats', express.json({ type: () => true, limit: '64kb' }));
app.post('/stats/:topic_name/query/:query_name', async (_req, res) => {
  if (pool) await pool.query('SELECT 1');
  res.status(200).json(answer);
});

const server = createServer(app);
server.listen(port, '127.0.0.1');
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => void (pool?.end() ?? Promise.resolve()).finally(() => process.exit(0)));
    server.closeIdleConnections();
  });
}
