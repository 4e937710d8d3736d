/**
 * AWS Lambda entry: the same Express app, wrapped by serverless-http. The app, its pool and its
 * key cache are built on the first invocation and reused by every warm one.
 */
import serverless from 'serverless-http';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { createApiRuntime } from './runtime.ts';

type Handler = ReturnType<typeof serverless>;
let ready: Promise<Handler> | undefined;

async function build(): Promise<Handler> {
  const config = loadConfig();
  if (!config.databaseUrl) throw new Error('DATABASE_URL is required in Lambda');
  const log = createLogger(config.logLevel);
  const runtime = await createApiRuntime(config, config.databaseUrl, log);
  return serverless(createApp(runtime.deps));
}

export const handler: Handler = async (event, context) => {
  ready ??= build().catch((err: unknown) => {
    ready = undefined; // a failed cold start must not poison the warm container
    throw err;
  });
  return (await ready)(event, context);
};
