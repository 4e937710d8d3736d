/**
 * AWS Lambda entry: the same Express app, wrapped by serverless-http. The app, its pool and its
 * key cache are built on the first invocation and reused by every warm one. No /metrics here
 * (METRICS is ignored): Prometheus cannot reach a Lambda container, and each container would count
 * only its own requests; CloudWatch and the API gateway's metrics cover a Lambda deployment.
 */
import serverless from 'serverless-http';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { createApiRuntime } from './runtime.ts';

type Handler = ReturnType<typeof serverless>;
interface Built {
  readonly handle: Handler;
  close(): Promise<void>;
}
let ready: Promise<Built> | undefined;

async function build(): Promise<Built> {
  const config = loadConfig();
  if (!config.databaseUrl) throw new Error('DATABASE_URL is required in Lambda');
  const log = createLogger(config.logLevel);
  const runtime = await createApiRuntime(config, config.databaseUrl, log, { metrics: false });
  return { handle: serverless(createApp(runtime.deps)), close: () => runtime.close() };
}

/** Ends the pool of a warm container (tests; Lambda itself just freezes the process). */
export async function close(): Promise<void> {
  const built = ready;
  ready = undefined;
  if (built) await (await built.catch(() => undefined))?.close();
}

export const handler: Handler = async (event, context) => {
  ready ??= build().catch((err: unknown) => {
    ready = undefined; // a failed cold start must not poison the warm container
    throw err;
  });
  return (await ready).handle(event, context);
};
