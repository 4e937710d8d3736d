/**
 * A Lambda instance as the runtime keeps one: src/lambda.ts's handler in a process of its own, called
 * with GET /health events (one per line read on stdin), answering each with its status on stdout, and
 * left running between calls until a signal ends it. The Lambda tests send it SIGTERM.
 */
import { createInterface } from 'node:readline';
import { handler } from '../../src/lambda.ts';

const event = {
  resource: '/{proxy+}',
  path: '/health',
  httpMethod: 'GET',
  headers: {},
  multiValueHeaders: {},
  queryStringParameters: null,
  multiValueQueryStringParameters: null,
  pathParameters: { proxy: 'health' },
  stageVariables: null,
  requestContext: { resourcePath: '/{proxy+}', httpMethod: 'GET', path: '/prod/health', stage: 'prod', requestId: 'instance', identity: { sourceIp: '127.0.0.1' } },
  body: null,
  isBase64Encoded: false,
};

for await (const _line of createInterface({ input: process.stdin })) {
  const answer = (await handler(event, { awsRequestId: 'instance', callbackWaitsForEmptyEventLoop: true })) as { statusCode: number };
  process.stdout.write(`${JSON.stringify({ msg: 'invoked', statusCode: answer.statusCode })}\n`);
}
