import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { AppError, DatabaseUnavailableError } from '../../../src/core/errors.ts';
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

  it('sends every error as uncacheable JSON, dropping the caching and CSV headers an answer had set', async () => {
    const app = express();
    app.set('etag', false); // as createApp does
    app.get('/x', (_req, res) => {
      res.setHeader('ETag', '"abc"');
      res.setHeader('Last-Modified', new Date(0).toUTCString());
      res.setHeader('Vary', 'Accept');
      res.setHeader('Content-Disposition', 'attachment; filename="x.csv"');
      throw new AppError(400, 'validation', "'x': bad");
    });
    app.use(errorHandler(9));
    const res = await request(app).get('/x').set('Accept', 'text/csv').expect(400);
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(res.headers['content-type']).to.equal('application/json; charset=utf-8');
    for (const name of ['etag', 'last-modified', 'vary', 'content-disposition']) expect(res.headers[name], name).to.equal(undefined);
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
