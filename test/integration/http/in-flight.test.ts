/**
 * The per-user bound on requests under way (INFLIGHT_USER_MAX, INFLIGHT_USER_QUEUE; issue 26) seen
 * from HTTP, against the real app and a seeded database. Requests are held open at a gate in front of
 * the real executor (the next N statements wait until the test opens it), so "two of alice's under
 * way" holds without racing real requests; the test waits for states (the bound's own counts), never
 * for a time.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { DatabaseUnavailableError, OverloadedError } from '../../../src/core/errors.ts';
import { InFlight } from '../../../src/core/in-flight.ts';
import type { Executor } from '../../../src/db/executor.ts';
import { errorHandler } from '../../../src/http/errors.ts';
import { inFlightRefusalMessage } from '../../../src/http/in-flight.ts';
import { seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { httpHarness, onlyError, RETRY_AFTER_SECONDS, RUNS_TOPIC, type HttpHarness } from '../../helpers/http.ts';

const RAW = `/stats/${RUNS_TOPIC}`;
const LIMITS = Object.freeze({ perUser: 2, queuePerUser: 1 });

/** The real executor behind a gate: the next `hold(n)` statements wait until `open()`; `fail(n)`: the next n fail as an outage would. */
function gated(real: Executor) {
  let toHold = 0;
  let toFail = 0;
  const waiting: (() => void)[] = [];
  const executor: Executor = {
    async query(q) {
      if (toFail > 0) {
        toFail--;
        throw new DatabaseUnavailableError('database unavailable (the test failed this statement)', 3);
      }
      if (toHold > 0) {
        toHold--;
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      return real.query(q);
    },
  };
  return {
    executor,
    hold: (n: number) => void (toHold = n),
    fail: (n: number) => void (toFail = n),
    held: () => waiting.length,
    open: () => {
      toHold = 0;
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}

/** Waits until `ok()` holds, checking every few milliseconds; fails naming `what` if it never does. */
async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (ok()) return;
    await delay(5);
  }
  throw new Error(`never happened: ${what}`);
}

describe('one user\'s requests under way at once (INFLIGHT_USER_MAX)', function () {
  this.timeout(120_000);
  let s: SeededDatabase;
  let gate: ReturnType<typeof gated>;
  let inFlight: InFlight;
  let h: HttpHarness;
  let server: http.Server;
  let base: string;

  /** A raw page of `user`'s over a real socket, abortable; resolves to the status and the body's text. */
  const send = (user: string, body: object, signal?: AbortSignal) =>
    fetch(base + RAW, { method: 'POST', headers: { authorization: h.bearer(user), 'content-type': 'application/json' }, body: JSON.stringify(body), signal }).then(async (res) => ({
      status: res.status,
      headers: res.headers,
      text: await res.text(),
    }));

  before(async () => {
    s = await seededDatabase({ runs: 2_000, days: 30 });
    gate = gated(s.executor);
    inFlight = new InFlight(LIMITS);
    h = await httpHarness(gate.executor, { inFlight });
    server = http.createServer(h.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    gate.open();
    await until('every place freed', () => inFlight.stats().active === 0 && inFlight.stats().waiting === 0);
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await h?.close();
    await s?.close();
  });

  it("makes a user's request wait while two of theirs are under way, refuses the next with 429 and Retry-After before reading its body, and answers another user's at once", async () => {
    gate.hold(2);
    const first = send('alice', { limit: 5 });
    const second = send('alice', { limit: 6 });
    await until("alice's two statements held", () => gate.held() === 2);
    const third = send('alice', { limit: 7 });
    await until("alice's third request waiting", () => inFlight.stats().waiting === 1);

    const refused = await send('alice', { limit: 8 });
    expect(refused.status).to.equal(429);
    expect(refused.headers.get('retry-after')).to.equal(String(RETRY_AFTER_SECONDS));
    expect(refused.headers.get('cache-control')).to.equal('no-store');
    expect(onlyError(JSON.parse(refused.text))).to.deep.equal({
      type: 'overloaded',
      message: `too many requests of this user under way (at most 2 at once and 1 waiting); retry after ${RETRY_AFTER_SECONDS} s`,
    });
    // A body too large to be read is refused the same: the refusal comes before the body.
    const unread = await send('alice', { source_app: 'x'.repeat(100 * 1024) });
    expect(unread.status).to.equal(429);

    const carol = await send('carol', { limit: 3 });
    expect(carol.status, "another user's request is answered while alice's wait").to.equal(200);
    expect(inFlight.stats()).to.deep.include({ active: 2, waiting: 1, rejected: 2 });

    gate.open();
    expect((await Promise.all([first, second, third])).map((r) => r.status)).to.deep.equal([200, 200, 200]);
    expect(inFlight.stats()).to.deep.include({ queued: 1 });
    await until('every place freed', () => inFlight.stats().users === 0);
  });

  it('sends the same bytes and headers the error middleware sends for the same refusal', async () => {
    gate.hold(2);
    const under = [send('alice', { limit: 5 }), send('alice', { limit: 6 })];
    await until("alice's two statements held", () => gate.held() === 2);
    const waiting = send('alice', { limit: 7 });
    await until("alice's third request waiting", () => inFlight.stats().waiting === 1);
    const refused = await send('alice', { limit: 8 });

    const reference = express();
    reference.use((_req, _res, next) => next(new OverloadedError(inFlightRefusalMessage(LIMITS, RETRY_AFTER_SECONDS), RETRY_AFTER_SECONDS)));
    reference.use(errorHandler(RETRY_AFTER_SECONDS));
    const expected = await request(reference).post('/').expect(429);
    expect(refused.text).to.equal(expected.text);
    for (const name of ['content-type', 'content-length', 'retry-after', 'cache-control']) expect(refused.headers.get(name), name).to.equal(expected.headers[name]);
    gate.open();
    await Promise.all([...under, waiting]);
  });

  it('frees the place of a request whose client left, whether it was waiting or under way', async () => {
    gate.hold(2);
    const leaving = new AbortController();
    const staying = send('alice', { limit: 5 });
    const left = send('alice', { limit: 6 }, leaving.signal).catch((err: unknown) => err);
    await until("alice's two statements held", () => gate.held() === 2);
    const waitingLeaves = new AbortController();
    const leftWaiting = send('alice', { limit: 7 }, waitingLeaves.signal).catch((err: unknown) => err);
    await until("alice's third request waiting", () => inFlight.stats().waiting === 1);

    waitingLeaves.abort();
    expect(await leftWaiting).to.be.instanceOf(Error);
    await until('the waiting place freed', () => inFlight.stats().waiting === 0);
    leaving.abort();
    expect(await left).to.be.instanceOf(Error);
    await until('the place under way freed, its statement still held', () => inFlight.stats().active === 1);
    expect(gate.held(), 'the left request is still at the gate').to.equal(2);

    // Both freed places are usable again: two more of alice's go on, a third waits.
    gate.hold(1);
    const again = send('alice', { limit: 8 });
    await until("alice's new request under way", () => inFlight.stats().active === 2);
    expect(inFlight.stats().waiting).to.equal(0);
    gate.open();
    expect((await Promise.all([staying, again])).map((r) => r.status)).to.deep.equal([200, 200]);
    await until('every place freed', () => inFlight.stats().users === 0);
    expect(inFlight.stats()).to.deep.include({ active: 0, waiting: 0 });
  });

  it('frees the place of every request that fails, whatever refuses it after authentication', async () => {
    const answers: number[] = [];
    const refusedBefore = inFlight.stats().rejected;
    const post = (user: string, path: string) => request(server).post(path).set('Authorization', h.bearer(user));
    answers.push((await post('alice', RAW).send({ limit: 'many' })).status); // validation
    answers.push((await post('alice', '/stats/public.cps.za.nowhere').send({})).status); // unknown topic
    answers.push((await post('bob', RAW).send({})).status); // the ACL
    answers.push((await post('alice', RAW).set('Content-Type', 'application/json').send('{"limit":')).status); // malformed JSON
    answers.push((await post('alice', RAW).send({ source_app: 'x'.repeat(100 * 1024) })).status); // too large
    gate.fail(1);
    answers.push((await post('alice', RAW).send({})).status); // the database away
    expect(answers).to.deep.equal([400, 404, 403, 400, 413, 503]);
    await until('every place freed', () => inFlight.stats().users === 0);
    expect(inFlight.stats()).to.deep.include({ active: 0, waiting: 0, rejected: refusedBefore });
    // And the user still has both places.
    gate.hold(2);
    const two = [send('alice', { limit: 5 }), send('alice', { limit: 6 })];
    await until("alice's two statements held", () => gate.held() === 2);
    expect(inFlight.stats()).to.deep.include({ active: 2, waiting: 0 });
    gate.open();
    expect((await Promise.all(two)).map((r) => r.status)).to.deep.equal([200, 200]);
  });
});
