import { expect } from 'chai';
import express from 'express';
import { Registry } from 'prom-client';
import request from 'supertest';
import { queryOf, REQUEST_DURATION, requestMetrics, routeGate } from '../../../src/metrics/requests.ts';
import { Scrape } from '../../helpers/metrics.ts';

const QUERY_ROUTE = '/stats/:topic_name/query/:query_name';

/** The app's shape in miniature: a gate that refuses without a token, one route, a 404 for the rest. */
function miniApp(registry: Registry): express.Express {
  const app = express();
  app.use(requestMetrics(registry));
  app.use('/stats/:topic_name', routeGate('/stats/:topic_name'));
  app.use('/stats/:topic_name', (req, res, next) => {
    if (req.headers.authorization) next();
    else res.status(401).end();
  });
  app.post(QUERY_ROUTE, (_req, res) => {
    res.json({ ok: true });
  });
  app.use((_req, res) => {
    res.status(404).end();
  });
  return app;
}

describe('request metrics', () => {
  describe('the query label', () => {
    it('is the name in /stats/{topic}/query/{name} when a compiled query has it', () => {
      expect(queryOf('/stats/public.cps.za.runs/query/failed_jobs')).to.equal('failed_jobs');
      expect(queryOf('/stats/public.cps.za.runs/query/job_status_trend?days=7')).to.equal('job_status_trend');
      expect(queryOf('/stats/any/query/failed_jobs/')).to.equal('failed_jobs');
    });

    it('is empty for a name no compiled query has, and for any other path', () => {
      for (const url of ['/stats/t/query/drop_table', '/stats/t/query/FAILED_JOBS', '/stats/t', '/stats/t/queries', '/health', '/stats/t/query/failed_jobs/x', '/x/t/query/failed_jobs']) {
        expect(queryOf(url), url).to.equal('');
      }
    });
  });

  describe('the histogram', () => {
    let registry: Registry;
    let app: express.Express;
    before(async () => {
      registry = new Registry();
      app = miniApp(registry);
      const auth = { Authorization: 'Bearer x' };
      await request(app).post('/stats/t1/query/failed_jobs').set(auth).expect(200);
      await request(app).post('/stats/t2/query/failed_jobs').set(auth).expect(200);
      await request(app).post('/stats/t3/query/failed_jobs').expect(401);
      await request(app).post('/stats/t1/query/no_such_query').set(auth).expect(200);
      await request(app).get('/nowhere/12345').expect(404);
    });

    const scrape = async () => new Scrape(await registry.metrics());

    it('labels an answered request with the route pattern, the compiled query and the status', async () => {
      const s = await scrape();
      expect(s.count(REQUEST_DURATION, { method: 'POST', route: QUERY_ROUTE, query: 'failed_jobs', status: '200' })).to.equal(2);
      expect(s.count(REQUEST_DURATION, { method: 'POST', route: QUERY_ROUTE, query: '', status: '200' })).to.equal(1);
    });

    it('labels a request refused before any route with the pattern of the gate that refused it', async () => {
      const s = await scrape();
      expect(s.count(REQUEST_DURATION, { method: 'POST', route: '/stats/:topic_name', query: 'failed_jobs', status: '401' })).to.equal(1);
    });

    it('labels a path no route serves with an empty route, never the path itself', async () => {
      const s = await scrape();
      expect(s.count(REQUEST_DURATION, { method: 'GET', route: '', query: '', status: '404' })).to.equal(1);
      const values = s.labelSets(REQUEST_DURATION).flatMap((l) => Object.values(l));
      for (const raw of ['t1', 't2', 't3', 'no_such_query', '/nowhere/12345']) {
        expect(values.some((v) => v.includes(raw)), `${raw} in a label`).to.equal(false);
      }
    });

    it('times each request (the sum is positive and below the test run)', async () => {
      const series = (await scrape()).histogram(REQUEST_DURATION, { method: 'POST', route: QUERY_ROUTE, query: 'failed_jobs', status: '200' });
      expect(series?.sum).to.be.greaterThan(0).and.lessThan(10);
      expect(series?.buckets['+Inf']).to.equal(2);
    });

    it('lets a second app share the registry instead of failing on the duplicate name', async () => {
      const second = miniApp(registry);
      await request(second).get('/nowhere').expect(404);
      expect((await scrape()).count(REQUEST_DURATION, { method: 'GET', route: '', query: '', status: '404' })).to.equal(2);
    });
  });
});
