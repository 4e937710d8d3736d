import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { AppError, DatabaseUnavailableError } from '../../../src/errors.ts';
import { errorHandler, LogThrottle } from '../../../src/http/errors.ts';

function appThrowing(err: unknown) {
  const app = express();
  app.get('/x', () => {
    throw err;
  });
  app.use(errorHandler(9));
  return app;
}

describe('errorHandler', () => {
  it('gives every 503 a Retry-After, the default one when the error carries none', async () => {
    const res = await request(appThrowing(new AppError(503, 'auth', 'keys unavailable'))).get('/x').expect(503);
    expect(res.headers['retry-after']).to.equal('9');
    expect(res.body).to.deep.equal({ success: false, statusCode: 503, errors: [{ type: 'auth', message: 'keys unavailable' }] });
  });

  it("prefers the error's own retry hint", async () => {
    const res = await request(appThrowing(new DatabaseUnavailableError('down', 3))).get('/x').expect(503);
    expect(res.headers['retry-after']).to.equal('3');
  });

  it('renders an unknown failure as 500 internal without its text', async () => {
    const res = await request(appThrowing(new Error('SELECT secret FROM t'))).get('/x').expect(500);
    expect(JSON.stringify(res.body)).not.to.include('secret');
    expect(res.body.errors).to.deep.equal([{ type: 'internal', message: 'internal error' }]);
  });
});

describe('LogThrottle (one line a second for an outage, not one per request)', () => {
  it('lets the first through, holds the rest of the interval back, then reports how many it held', () => {
    let now = 0;
    const throttle = new LogThrottle(1000, () => now);
    expect(throttle.take('database')).to.deep.equal({ log: true, suppressed: 0 });
    for (let i = 1; i <= 5; i++) expect(throttle.take('database')).to.deep.equal({ log: false, suppressed: i });
    // Another kind has its own interval.
    expect(throttle.take('not_ready').log).to.equal(true);
    now = 999;
    expect(throttle.take('database').log).to.equal(false);
    now = 1000;
    expect(throttle.take('database')).to.deep.equal({ log: true, suppressed: 6 });
    expect(throttle.take('database')).to.deep.equal({ log: false, suppressed: 1 });
  });
});
