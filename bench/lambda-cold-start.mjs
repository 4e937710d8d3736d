/**
 * One Lambda cold start, in a fresh process: import the built handler, answer one API Gateway v2
 * event, print the timings as one JSON line and exit. Plain JavaScript on purpose: a TypeScript
 * loader would add its own start-up to the very time being measured.
 *   BENCH_LAMBDA_EVENT='{"version":"2.0",...}' node bench/lambda-cold-start.mjs dist/lambda/index.mjs
 * performance.now() counts from the process's time origin, i.e. from its start.
 */
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

function finish(result, code) {
  // The handler's pool keeps sockets open; the process is done once the line is out. The handler
  // logs to stdout too (its start-up warnings), so the result line is marked.
  process.stdout.write(`${JSON.stringify({ coldStart: true, ...result })}\n`, () => process.exit(code));
}

try {
  const handlerPath = process.argv[2];
  const event = JSON.parse(process.env.BENCH_LAMBDA_EVENT ?? 'null');
  if (!handlerPath || !event) throw new Error('usage: BENCH_LAMBDA_EVENT=<json> node bench/lambda-cold-start.mjs <handler.js>');
  const { handler } = await import(pathToFileURL(handlerPath).href);
  const importedMs = performance.now();
  const context = { awsRequestId: 'bench', functionName: 'eventstats-bench', getRemainingTimeInMillis: () => 30_000 };
  const response = await handler(event, context);
  const answeredMs = performance.now();
  const body = typeof response?.body === 'string' ? response.body : '';
  finish({ importedMs, answeredMs, statusCode: response?.statusCode ?? null, bodyBytes: Buffer.byteLength(body) }, 0);
} catch (err) {
  finish({ error: err instanceof Error ? err.message : String(err) }, 1);
}
