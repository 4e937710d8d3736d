/**
 * Admission control seen from HTTP (issue 26): reads of the base tables within a per-user and a
 * global budget, refused with 429 and Retry-After in the error envelope; covered reads never
 * counted; the raw endpoint's window bounded with a 400. The budget is taken by hand (Admission.enter)
 * so that "two under way" holds without racing real requests.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { Admission, type Release } from '../../../src/core/admission.ts';
import { OverloadedError } from '../../../src/core/errors.ts';
import { InFlight } from '../../../src/core/in-flight.ts';
import { errorHandler } from '../../../src/http/errors.ts';
import { RAW_MAX_WINDOW_DAYS } from '../../../src/raw/raw-stats.ts';
import { DAY_MS, HOUR_MS } from '../../../src/rollup/window.ts';
import { NOW, seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { httpHarness, onlyError, RUNS_TOPIC, type HttpHarness } from '../../helpers/http.ts';

const RAW = `/stats/${RUNS_TOPIC}`;
const query = (name: string) => `/stats/${RUNS_TOPIC}/query/${name}`;
const RETRY_AFTER = 9;

describe('admission of reads of the base tables', function () {
  this.timeout(120_000);
  let s: SeededDatabase;
  let h: HttpHarness;
  let admission: Admission;
  let held: Release[] = [];

  const post = (user: string, path: string, body: object = {}) => request(h.app).post(path).set('Authorization', h.bearer(user)).send(body);
  const hold = (user: string, n: number) => {
    for (let i = 0; i < n; i++) held.push(admission.enter(user));
  };
  // Day edges of hours on each side, weeks before the recent tier: aggregation_by_catalog reads them raw.
  const uncovered = { timestamp_start: NOW - 28 * DAY_MS + 5 * HOUR_MS, timestamp_end: NOW - 20 * DAY_MS - 5 * HOUR_MS };

  before(async () => {
    s = await seededDatabase({ runs: 2_000, days: 30 });
    admission = new Admission({ globalMax: 3, userMax: 2, retryAfterSeconds: RETRY_AFTER });
    h = await httpHarness(s.executor, { admission });
  });
  afterEach(() => {
    for (const release of held) release();
    held = [];
  });
  after(async () => {
    await h?.close();
    await s?.close();
  });

  it("answers a user's raw request 429 with Retry-After while two of theirs are under way, and another user's 200", async () => {
    hold('alice', 2);
    const refused = await post('alice', RAW).expect(429);
    expect(refused.headers['retry-after']).to.equal(String(RETRY_AFTER));
    expect(refused.body).to.include({ success: false, statusCode: 429 });
    expect(onlyError(refused.body).type).to.equal('overloaded');
    expect(onlyError(refused.body).message).to.match(/^too many requests reading the base tables under way for this user/);
    await post('carol', RAW).expect(200);
  });

  it("refuses a user's raw page over the budget before reading its body, with the bytes and headers the route's refusal has", async () => {
    hold('alice', 2);
    const before = admission.stats().rejected.user;
    // Neither body is read: malformed JSON, and one past the 64 KiB limit, are refused like any other.
    const malformed = await post('alice', RAW).set('Content-Type', 'application/json').send('{"limit":').expect(429);
    await post('alice', RAW).send({ source_app: 'x'.repeat(100 * 1024) }).expect(429);
    expect(admission.stats().rejected.user - before).to.equal(2);

    const reference = express();
    const message = `too many requests reading the base tables under way for this user (at most 2 at once); retry after ${RETRY_AFTER} s, or narrow the window`;
    reference.use((_req, _res, next) => next(new OverloadedError(message, RETRY_AFTER)));
    reference.use(errorHandler());
    const expected = await request(reference).post('/').expect(429);
    expect(malformed.text).to.equal(expected.text);
    for (const name of ['content-type', 'content-length', 'retry-after', 'cache-control']) expect(malformed.headers[name], name).to.equal(expected.headers[name]);
    // Another user's page, and the user's own covered reads, go on.
    await post('carol', RAW).expect(200);
    await post('alice', query('failed_jobs'), { days: 7 }).expect(200);
  });

  it('answers everyone 429 on a base-table read once the process has its global limit under way', async () => {
    hold('bob', 2);
    hold('dave', 1);
    const refused = await post('carol', RAW).expect(429);
    expect(onlyError(refused.body).message).to.match(/^too many requests reading the base tables under way \(at most 3 at once\)/);
  });

  it('keeps answering covered compiled reads of a user whose budget is spent, and of everyone when the global one is', async () => {
    hold('alice', 2);
    hold('bob', 1);
    await post('alice', query('failed_jobs'), { days: 7 }).expect(200);
    await post('alice', query('aggregation_by_catalog'), { days: 7 }).expect(200);
    await post('carol', query('job_status_trend'), { days: 3 }).expect(200);
  });

  it('counts a compiled read that reads the base tables beyond its edges, and admits it again once released', async () => {
    hold('alice', 2);
    const refused = await post('alice', query('aggregation_by_catalog'), uncovered).expect(429);
    expect(onlyError(refused.body).type).to.equal('overloaded');
    for (const release of held) release();
    await post('alice', query('aggregation_by_catalog'), uncovered).expect(200);
    expect(admission.stats().active).to.equal(0);
  });

  it(`answers 400 naming both fields to a raw window longer than ${RAW_MAX_WINDOW_DAYS} days, and 200 to one of ${RAW_MAX_WINDOW_DAYS}`, async () => {
    const start = NOW - 60 * DAY_MS;
    const res = await post('alice', RAW, { timestamp_start: start, timestamp_end: NOW }).expect(400);
    expect(onlyError(res.body)).to.deep.equal({
      type: 'validation',
      message: `'timestamp_start', 'timestamp_end': the window must not be longer than ${RAW_MAX_WINDOW_DAYS} days (it is 60); read a longer period window by window`,
    });
    const defaultEnd = await post('alice', RAW, { timestamp_start: start }).expect(400);
    expect(onlyError(defaultEnd.body).type, 'timestamp_end defaults to now').to.equal('validation');
    await post('alice', RAW, { timestamp_start: NOW - RAW_MAX_WINDOW_DAYS * DAY_MS, timestamp_end: NOW }).expect(200);
  });

  describe('with refusals held (ADMISSION_REFUSAL_HOLD_MS)', () => {
    it("holds a user's refusal, keeping one of their places under INFLIGHT_USER_MAX, answers another user meanwhile, and sends nothing to a client that left", async () => {
      const held = new Admission({ globalMax: 3, userMax: 1, retryAfterSeconds: RETRY_AFTER, refusalHoldMs: 600_000 });
      const inFlight = new InFlight({ perUser: 2, queuePerUser: 0 });
      const hh = await httpHarness(s.executor, { admission: held, inFlight });
      const server = http.createServer(hh.app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const release = held.enter('alice');
      try {
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const leaving = new AbortController();
        let answered = false;
        const refused = fetch(base + RAW, { method: 'POST', headers: { authorization: hh.bearer('alice') }, body: '{}', signal: leaving.signal }).then(
          () => (answered = true),
          () => undefined,
        );
        for (let i = 0; i < 2_000 && held.stats().rejected.user === 0; i++) await delay(5);
        expect(held.stats().rejected.user, "alice's read refused").to.equal(1);
        expect(inFlight.stats().active, 'the held refusal keeps its place').to.equal(1);
        const carol = await fetch(base + RAW, { method: 'POST', headers: { authorization: hh.bearer('carol') }, body: '{}' });
        expect(carol.status).to.equal(200);
        expect(answered, 'the refusal is still held').to.equal(false);
        leaving.abort();
        await refused;
        for (let i = 0; i < 2_000 && inFlight.stats().active > 0; i++) await delay(5);
        expect(inFlight.stats()).to.deep.include({ active: 0, users: 0 });
      } finally {
        release();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await hh.close();
      }
    });

    it('sends a held refusal as an unheld one: 429, Retry-After and the envelope, for a raw page and a compiled read', async () => {
      const held = new Admission({ globalMax: 3, userMax: 1, retryAfterSeconds: RETRY_AFTER, refusalHoldMs: 1 });
      const hh = await httpHarness(s.executor, { admission: held });
      const release = held.enter('alice');
      try {
        for (const path of [RAW, query('aggregation_by_catalog')]) {
          const res = await request(hh.app).post(path).set('Authorization', hh.bearer('alice')).send(path === RAW ? {} : uncovered).expect(429);
          expect(res.headers['retry-after'], path).to.equal(String(RETRY_AFTER));
          expect(onlyError(res.body).message, path).to.match(/^too many requests reading the base tables under way for this user/);
        }
      } finally {
        release();
        await hh.close();
      }
    });
  });

  describe('with a time budget per user (ADMISSION_USER_SHARE)', () => {
    // Its own harness, and a clock the test moves, so that "alice's reads have used 6 s" holds
    // without timing real statements.
    let budgeted: Admission;
    let hb: HttpHarness;
    let now = 0;
    const postB = (user: string, path: string, body: object = {}) => request(hb.app).post(path).set('Authorization', hb.bearer(user)).send(body);

    before(async () => {
      budgeted = new Admission({ globalMax: 3, userMax: 2, retryAfterSeconds: RETRY_AFTER, userShare: 0.25, burstMs: 5_000 }, () => now);
      hb = await httpHarness(s.executor, { admission: budgeted });
    });
    after(async () => {
      await hb?.close();
    });

    it("answers a user whose reads have used their share 429 with a Retry-After of when it is earned back, with none of theirs under way; another user's raw read and the user's own covered reads 200", async () => {
      const release = budgeted.enter('alice');
      now += 6_000; // 1 s past the 5 s burst: 4 s at 0.25 to earn back
      release();
      const refused = await postB('alice', RAW).expect(429);
      expect(refused.headers['retry-after']).to.equal('5');
      expect(refused.body).to.include({ success: false, statusCode: 429 });
      expect(onlyError(refused.body).type).to.equal('overloaded');
      expect(onlyError(refused.body).message).to.match(/^this user's reads of the base tables have used their share of the time \(0\.25 of one connection, on average\); retry after 5 s/);
      await postB('alice', query('aggregation_by_catalog'), uncovered).expect(429);
      await postB('alice', query('failed_jobs'), { days: 7 }).expect(200);
      await postB('carol', RAW).expect(200);
      now += 4_001;
      await postB('alice', RAW).expect(200);
      expect(budgeted.stats().rejected).to.deep.equal({ user: 0, global: 0, budget: 2, load: 0 });
    });
  });

  it("answers a raw read 429 with Retry-After 1 s while the event loop is busier than ADMISSION_MAX_LOOP_LOAD, and keeps answering covered reads", async () => {
    let load = 0.9;
    const busy = new Admission({ globalMax: 3, userMax: 2, retryAfterSeconds: RETRY_AFTER, maxLoopLoad: 0.7 }, undefined, () => load);
    const hl = await httpHarness(s.executor, { admission: busy });
    try {
      const postL = (user: string, path: string, body: object = {}) => request(hl.app).post(path).set('Authorization', hl.bearer(user)).send(body);
      const refused = await postL('carol', RAW).expect(429);
      expect(refused.headers['retry-after']).to.equal('1');
      expect(onlyError(refused.body)).to.deep.equal({
        type: 'overloaded',
        message: 'the server is busy answering other requests (its event loop 90% busy, above 70%); reads of the base tables wait: retry after 1 s',
      });
      await postL('carol', query('failed_jobs'), { days: 7 }).expect(200);
      load = 0.5;
      await postL('carol', RAW).expect(200);
    } finally {
      await hl.close();
    }
  });
});
