/**
 * Issue 14, hostile input: what the HTTP fuzz (test/helpers/fuzz.ts) found, each pinned by the one
 * request that showed it, and the body limit. None of these requests reaches the database.
 */
import type { Server } from 'node:http';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import request from 'supertest';
import type { Executor } from '../../../src/db/executor.ts';
import { BODY_LIMIT_BYTES } from '../../../src/http/body.ts';
import { createHttpServer } from '../../../src/http/http-server.ts';
import { MAX_DESCRIBED } from '../../../src/core/validation.ts';
import { httpHarness, onlyError, RUNS_TOPIC, type HttpHarness } from '../../helpers/http.ts';

const RAW = `/stats/${RUNS_TOPIC}`;
const FAILED_JOBS = `/stats/${RUNS_TOPIC}/query/failed_jobs`;

/** Sends `text` as it is and returns what the server answered by the time it closed the connection. */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within 5 s; received ${JSON.stringify(received)}`));
    }, 5_000);
    socket.on('data', (d: Buffer) => (received += d.toString('utf8')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

/** A JSON object of exactly `bytes` bytes: one unknown field holding padding (the raw endpoint ignores unknown fields). */
function objectOfSize(bytes: number): string {
  const shell = '{"padding":""}';
  return `{"padding":"${'x'.repeat(bytes - shell.length)}"}`;
}

describe('hostile input (issue 14)', function () {
  this.timeout(20_000);
  let queried = 0;
  const executor: Executor = {
    query: () => {
      queried += 1;
      return Promise.resolve([]);
    },
  };
  let h: HttpHarness;
  const post = (path: string) => request(h.app).post(path).set('Authorization', h.bearer('alice'));

  before(async () => {
    h = await httpHarness(executor);
  });
  after(async () => h?.close());

  describe('a path segment that is not valid percent-encoded UTF-8 (was 500 "internal")', () => {
    for (const path of ['/stats/%E0%A4%A/query/failed_jobs', `/stats/${RUNS_TOPIC}/query/%ZZ`, '/stats/%ED%A0%80']) {
      it(`answers 400 "validation" naming the path: ${path}`, async () => {
        const res = await post(path).send({}).expect(400);
        expect(onlyError(res.body)).to.deep.equal({ type: 'validation', message: 'path: a segment is not valid percent-encoded UTF-8' });
      });
    }
  });

  describe('a body that does not decompress as its Content-Encoding says (was 500 "internal")', () => {
    // A Buffer is sent as is (superagent would serialise it as JSON under a JSON Content-Type); the parser reads any type as JSON.
    for (const encoding of ['gzip', 'deflate', 'br']) {
      it(`answers 400 "validation" naming the body (${encoding})`, async () => {
        const res = await post(RAW).set('Content-Encoding', encoding).send(Buffer.from('{"limit": 5}')).expect(400);
        expect(onlyError(res.body)).to.deep.equal({ type: 'validation', message: 'body: could not be decoded as its Content-Encoding says' });
      });
    }

    it('still reads a body that does decompress', async () => {
      const res = await post(RAW).set('Content-Encoding', 'gzip').send(gzipSync('{"limit": 5}')).expect(200);
      expect(res.body, 'the decompressed body was read: its limit').to.deep.include({ success: true });
      expect(res.body.pagination.limit).to.equal(5);
    });
  });

  describe('a body breaking one rule many times (was a 1.8 MB message for a 30 kB body)', () => {
    it(`names the first ${MAX_DESCRIBED} issues and says there are more`, async () => {
      const res = await post(FAILED_JOBS).send({ group_by: Array(15_000).fill(1) }).expect(400);
      const { message } = onlyError(res.body);
      expect(message.split('; ')).to.have.length(MAX_DESCRIBED + 1);
      expect(message).to.match(/^'group_by\.0': must be a non-empty array of distinct values from /);
      expect(message).to.match(/; and more$/);
      expect(res.text.length).to.be.below(2_000);
    });

    it(`names the first ${MAX_DESCRIBED} unknown fields and counts the rest`, async () => {
      const body = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`f${i}`, 1]));
      const res = await post(FAILED_JOBS).send(body).expect(400);
      expect(onlyError(res.body).message).to.equal("unknown field(s) 'f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9', and 490 more: not accepted here");
    });
  });

  describe(`the body limit (${BODY_LIMIT_BYTES} bytes, as the OpenAPI document says)`, () => {
    it('reads a body of exactly the limit', async () => {
      const before = queried;
      const res = await post(RAW).set('Content-Type', 'application/json').send(objectOfSize(BODY_LIMIT_BYTES)).expect(200);
      expect(res.body).to.deep.include({ success: true, data: [] });
      expect(queried, 'answered from the database').to.be.greaterThan(before);
    });

    it('answers a byte more with 413 in the envelope, before reading the database', async () => {
      const before = queried;
      const res = await post(RAW).set('Content-Type', 'application/json').send(objectOfSize(BODY_LIMIT_BYTES + 1)).expect(413);
      expect(res.body).to.deep.equal({ success: false, statusCode: 413, errors: [{ type: 'validation', message: 'body: larger than the accepted size' }] });
      expect(queried).to.equal(before);
    });

    it('answers a 1 MB string, on a compiled query too, with 413', async () => {
      const res = await post(FAILED_JOBS).send({ tenant_id: 'x'.repeat(1 << 20) }).expect(413);
      expect(onlyError(res.body).type).to.equal('validation');
    });

    it('counts the limit after decompression: a small gzip of a large body answers 413', async () => {
      const bomb = gzipSync(objectOfSize(10 * BODY_LIMIT_BYTES));
      expect(bomb.length).to.be.below(BODY_LIMIT_BYTES / 10);
      const res = await post(RAW).set('Content-Encoding', 'gzip').send(bomb).expect(413);
      expect(res.body).to.deep.equal({ success: false, statusCode: 413, errors: [{ type: 'validation', message: 'body: larger than the accepted size' }] });
    });
  });

  describe('deep nesting and huge arrays within the limit', () => {
    it('answers 10,000 nested arrays as a body that is not an object', async () => {
      const res = await post(RAW).set('Content-Type', 'application/json').send(`${'['.repeat(10_000)}${']'.repeat(10_000)}`).expect(400);
      expect(onlyError(res.body).message).to.equal('body: must be a JSON object');
    });

    it('answers a filter of 10,000 nested arrays as a broken filter rule', async () => {
      const res = await post(FAILED_JOBS).set('Content-Type', 'application/json').send(`{"tenant_id":${'['.repeat(10_000)}"a"${']'.repeat(10_000)}}`).expect(400);
      expect(onlyError(res.body).message).to.match(/^'tenant_id': must be a string or a non-empty array of up to 100 strings/);
    });

    it('ignores 10,000 nested objects under an unknown field of the raw endpoint, as any unknown field', async () => {
      const res = await post(RAW).set('Content-Type', 'application/json').send(`{"x":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`).expect(200);
      expect(res.body).to.deep.include({ success: true, data: [] });
    });

    it('answers a filter of 10,000 values with the filter rule', async () => {
      const res = await post(FAILED_JOBS).send({ tenant_id: Array(10_000).fill('a') }).expect(400);
      expect(onlyError(res.body).message).to.equal("'tenant_id': must be a string or a non-empty array of up to 100 strings");
    });
  });

  describe("requests Node's parser refuses, and CONNECT (answered without a body, or not at all)", () => {
    let server: Server;
    let port: number;
    before(async () => {
      server = createHttpServer(h.app, { headersTimeoutMs: 5_000, requestTimeoutMs: 5_000, keepAliveTimeoutMs: 1_000 });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as net.AddressInfo).port;
    });
    after(async () => {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    });

    const malformed = 'request: not a well-formed HTTP/1.1 request';
    const cases: [string, string, number, string, string][] = [
      ['an unknown method', 'FOO /health HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'validation', malformed],
      ['no Host header', 'GET /health HTTP/1.1\r\n\r\n', 400, 'validation', malformed],
      ['Content-Length beside Transfer-Encoding', `POST ${RAW} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}`, 400, 'validation', malformed],
      ['a line that is not HTTP', 'hello\r\n\r\n', 400, 'validation', malformed],
      ['headers over the size limit', `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'validation', 'headers: the request line and headers are larger than the accepted size'],
      ['a path over the size limit', `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'validation', 'headers: the request line and headers are larger than the accepted size'],
      ['CONNECT', 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n', 404, 'route', 'no route CONNECT 127.0.0.1:22'],
    ];
    for (const [what, text, status, type, message] of cases) {
      it(`answers ${what} with ${status} in the envelope and closes the connection`, async () => {
        const [head = '', body = ''] = (await exchange(port, text)).split('\r\n\r\n');
        expect(head).to.match(new RegExp(`^HTTP/1\\.1 ${status} `));
        expect(head).to.match(/\r\nContent-Type: application\/json; charset=utf-8\r\n/);
        expect(JSON.parse(body)).to.deep.equal({ success: false, statusCode: status, errors: [{ type, message }] });
      });
    }
  });
});
