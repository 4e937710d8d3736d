/**
 * Issue 14, slow clients: over raw sockets against a real server on 127.0.0.1 with small timeouts, a
 * client that sends its headers byte by byte, never finishes its body, or idles, loses its connection
 * within the timeout (plus the server's 1 s check), answered 408 in the envelope where an answer fits.
 * Node's defaults would hold such a client 60 s (headers) to 300 s (body).
 */
import type { Server } from 'node:http';
import net from 'node:net';
import { expect } from 'chai';
import type { Executor } from '../../../src/db/executor.ts';
import { createHttpServer, type HttpTimeouts } from '../../../src/http/http-server.ts';
import { httpHarness, RUNS_TOPIC, type HttpHarness } from '../../helpers/http.ts';

const TIMEOUTS: HttpTimeouts = { headersTimeoutMs: 500, requestTimeoutMs: 1_000, keepAliveTimeoutMs: 500 };
/** What a bound may overrun: Node's deadline check runs every second at most, plus scheduling slack. */
// A liveness deadline, not a timing bound: a connection still open this long after its timeout was
// never closed. How soon it closes is ordering (never before the timeout) plus \`npm run chaos\`.
const SLACK_MS = 15_000;
const SLOW_QUERY_MS = 1_500;

interface Connection {
  readonly socket: net.Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Milliseconds from connecting until the server closed the connection. */
  readonly closed: Promise<number>;
}

/**
 * `ignoreFin`: like a hostile client, keep this side open after the server's FIN, so only a server that
 * lets go of the socket (a reset on the next write) counts as closing it.
 */
function connect(port: number, ignoreFin = false): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: ignoreFin });
    let data = '';
    const started = Date.now();
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('error', () => {}); // a reset counts as closed
    const closed = new Promise<number>((done) => socket.on('close', () => done(Date.now() - started)));
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

/** Writes `chunks` one every `everyMs` until the connection closes (or the chunks run out). */
function trickle(c: Connection, chunks: string[], everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (c.socket.destroyed || i >= chunks.length) return clearInterval(timer);
    c.socket.write(chunks[i++]!);
  }, everyMs);
  void c.closed.then(() => clearInterval(timer));
}

/** Resolves with the close time, or rejects when the connection outlives `boundMs` (and then ends it). */
async function closedWithin(c: Connection, boundMs: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      c.socket.destroy();
      reject(new Error(`the connection was still open after ${boundMs} ms; received ${JSON.stringify(c.received().slice(0, 200))}`));
    }, boundMs);
  });
  try {
    return await Promise.race([c.closed, late]);
  } finally {
    clearTimeout(timer);
  }
}

function expect408(received: string): void {
  const [head = '', body = ''] = received.split('\r\n\r\n');
  expect(head).to.match(/^HTTP\/1\.1 408 /);
  expect(JSON.parse(body)).to.deep.equal({
    success: false,
    statusCode: 408,
    errors: [{ type: 'validation', message: 'request: its headers or body did not arrive within the time limit' }],
  });
}

describe('slow clients (issue 14)', function () {
  this.timeout(60_000);
  let h: HttpHarness;
  let server: Server;
  let port: number;
  const executor: Executor = {
    query: () => new Promise((resolve) => setTimeout(() => resolve([]), SLOW_QUERY_MS)),
  };

  before(async () => {
    h = await httpHarness(executor, { health: { database: () => Promise.resolve({ ok: true, detail: 'ok' }) } });
    server = createHttpServer(h.app, TIMEOUTS);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await h?.close();
  });

  it('takes its timeouts from the configuration it is given', () => {
    expect(server).to.include({ headersTimeout: 500, requestTimeout: 1_000, keepAliveTimeout: 500 });
  });

  it('closes a connection whose headers arrive byte by byte, with 408, within the headers timeout', async () => {
    const c = await connect(port, true);
    trickle(c, [...`GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(500)}`], 50);
    const ms = await closedWithin(c, TIMEOUTS.headersTimeoutMs + SLACK_MS);
    expect(ms).to.be.at.least(TIMEOUTS.headersTimeoutMs);
    expect408(c.received());
  });

  it('closes a connection that never sends anything within the headers timeout', async () => {
    const c = await connect(port);
    await closedWithin(c, TIMEOUTS.headersTimeoutMs + SLACK_MS);
  });

  it('closes a connection whose body never finishes, with 408, within the request timeout', async () => {
    const c = await connect(port, true);
    c.socket.write(`POST /stats/${RUNS_TOPIC} HTTP/1.1\r\nHost: x\r\nAuthorization: ${h.bearer('alice')}\r\nContent-Length: 1000\r\n\r\n{"limit":`);
    trickle(c, Array(1000).fill(' '), 50);
    const ms = await closedWithin(c, TIMEOUTS.requestTimeoutMs + SLACK_MS);
    expect(ms).to.be.at.least(TIMEOUTS.requestTimeoutMs);
    expect408(c.received());
  });

  it('closes a chunked body that never ends, with 408, within the request timeout', async () => {
    const c = await connect(port, true);
    c.socket.write(`POST /stats/${RUNS_TOPIC} HTTP/1.1\r\nHost: x\r\nAuthorization: ${h.bearer('alice')}\r\nTransfer-Encoding: chunked\r\n\r\n`);
    trickle(c, Array(1000).fill('1\r\n \r\n'), 50);
    await closedWithin(c, TIMEOUTS.requestTimeoutMs + SLACK_MS);
    expect408(c.received());
  });

  it('closes a connection that announces a 1 GB body and sends none within the request timeout', async () => {
    const c = await connect(port);
    c.socket.write(`POST /stats/${RUNS_TOPIC} HTTP/1.1\r\nHost: x\r\nAuthorization: ${h.bearer('alice')}\r\nContent-Length: 1000000000\r\n\r\n`);
    await closedWithin(c, TIMEOUTS.requestTimeoutMs + SLACK_MS);
    expect(c.received()).to.match(/^HTTP\/1\.1 (408|413) /);
  });

  it('answers an anonymous 1 GB announcement 401 from its headers, reading none of its body, and closes the connection', async () => {
    const c = await connect(port);
    c.socket.write(`POST /stats/${RUNS_TOPIC} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n`);
    await closedWithin(c, TIMEOUTS.requestTimeoutMs + SLACK_MS);
    expect(c.received()).to.match(/^HTTP\/1\.1 401 /);
  });

  it('closes an idle keep-alive connection after its answer within the keep-alive timeout', async () => {
    const c = await connect(port);
    c.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    // Node keeps a connection up to a second past keepAliveTimeout (its keepAliveTimeoutBuffer).
    await closedWithin(c, TIMEOUTS.keepAliveTimeoutMs + 1_000 + SLACK_MS);
    expect(c.received()).to.match(/^HTTP\/1\.1 200 /);
  });

  it('does not cut an answer that takes longer than the request timeout once the request has arrived', async () => {
    const c = await connect(port);
    const body = '{}';
    c.socket.write(`POST /stats/${RUNS_TOPIC} HTTP/1.1\r\nHost: x\r\nAuthorization: ${h.bearer('alice')}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    const ms = await closedWithin(c, SLOW_QUERY_MS + SLACK_MS);
    expect(ms).to.be.at.least(SLOW_QUERY_MS);
    expect(c.received()).to.match(/^HTTP\/1\.1 200 /);
  });
});
