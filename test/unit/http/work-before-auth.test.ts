/**
 * Auth before work (issue 26): what an anonymous caller can make the API do. The token is checked
 * before the JSON body is read, and /health runs its checks at most once a second whoever asks.
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import type { Executor } from '../../../src/db/executor.ts';
import { HEALTH_CACHE_MS, healthRoutes } from '../../../src/http/health.ts';
import { httpHarness, onlyError, RUNS_TOPIC, type HttpHarness } from '../../helpers/http.ts';

const noDatabase: Executor = { query: () => Promise.reject(new Error('an anonymous request must not reach the database')) };
const FAILED_JOBS = `/stats/${RUNS_TOPIC}/query/failed_jobs`;

/** Sends only the head of a POST announcing a body it never sends, and resolves with the first answer line. */
function headOnly(port: number, headers: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`POST ${FAILED_JOBS} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n${headers}\r\n`);
    });
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes('\r\n')) {
        socket.destroy();
        resolve(got.slice(0, got.indexOf('\r\n')));
      }
    });
    socket.on('error', reject);
  });
}

describe('work done before auth', () => {
  let h: HttpHarness;
  let server: Server;
  let port: number;
  before(async () => {
    h = await httpHarness(noDatabase);
    server = createServer(h.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await h.close();
  });

  it('answers 401 to a request without a token before its body arrives: the body is never read', async () => {
    expect(await headOnly(port, '')).to.equal('HTTP/1.1 401 Unauthorized');
  });

  it('answers 403 to a user the topic does not list before the body arrives', async () => {
    expect(await headOnly(port, `Authorization: ${h.bearer('bob')}\r\n`)).to.equal('HTTP/1.1 403 Forbidden');
  });

  it('answers an anonymous malformed JSON body with 401, not a parse error', async () => {
    const res = await request(h.app).post(FAILED_JOBS).set('Content-Type', 'application/json').send('{nope').expect(401);
    expect(onlyError(res.body)).to.deep.equal({ type: 'auth', message: 'missing bearer token' });
  });

  it('still answers an authorised malformed JSON body with 400', async () => {
    const res = await request(h.app).post(FAILED_JOBS).set('Authorization', h.bearer('alice')).set('Content-Type', 'application/json').send('{nope');
    expect(res.status).to.equal(400);
  });
});

describe('GET /health under many anonymous callers', () => {
  it('runs its checks once for 50 concurrent callers and more within a second, and again once the second has passed', async () => {
    let runs = 0;
    const clock = { t: 1_000_000 };
    const counted = async () => {
      runs++;
      return { ok: true, detail: 'ok' };
    };
    const app = express().use(healthRoutes({ database: counted }, 5, HEALTH_CACHE_MS, () => clock.t));
    const answers = await Promise.all(Array.from({ length: 50 }, () => request(app).get('/health')));
    expect(answers.map((a) => a.status)).to.deep.equal(Array(50).fill(200));
    clock.t += HEALTH_CACHE_MS - 1;
    await request(app).get('/health').expect(200);
    expect(runs).to.equal(1);
    clock.t += 1;
    await request(app).get('/health').expect(200);
    expect(runs).to.equal(2);
  });

  it('is what the app serves: two calls in a row run the checks once', async () => {
    let runs = 0;
    const h = await httpHarness(noDatabase, {
      health: {
        database: async () => {
          runs++;
          return { ok: true, detail: 'ok' };
        },
      },
    });
    try {
      await request(h.app).get('/health').expect(200);
      await request(h.app).get('/health').expect(200);
      expect(runs).to.equal(1);
    } finally {
      await h.close();
    }
  });
});
