/**
 * The compiled-query endpoints over HTTP: the answer's envelope and metadata, parameter
 * normalisation and validation, the ACL, and the catalog.
 */
import { expect } from 'chai';
import request from 'supertest';
import { paramsJsonSchema } from '../../../src/declarations/catalog.ts';
import { queriesOf } from '../../../src/declarations/index.ts';
import { DAY_MS } from '../../../src/rollup/window.ts';
import { NOW, seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { httpHarness, onlyError, RUNS_TOPIC, type HttpHarness, type User } from '../../helpers/http.ts';

const FAILED_JOBS = `/stats/${RUNS_TOPIC}/query/failed_jobs`;

describe('POST /stats/{topic_name}/query/{query_name}', function () {
  this.timeout(120_000);
  let s: SeededDatabase;
  let h: HttpHarness;

  const post = (path: string, body: object, user: User = 'alice') => request(h.app).post(path).set('Authorization', h.bearer(user)).send(body);

  before(async () => {
    s = await seededDatabase({ runs: 2_000, days: 30 });
    h = await httpHarness(s.executor);
  });
  after(async () => {
    await h?.close();
    await s?.close();
  });

  describe('a successful answer', () => {
    it('has exactly success, statusCode, topic, query, params, data and meta', async () => {
      const res = await post(FAILED_JOBS, {}).expect(200);
      expect(Object.keys(res.body)).to.have.members(['success', 'statusCode', 'topic', 'query', 'params', 'data', 'meta']);
      expect(res.body).to.include({ success: true, statusCode: 200, topic: RUNS_TOPIC, query: 'failed_jobs' });
      expect(res.body.data).to.be.an('array').with.length.greaterThan(0);
    });

    it("carries the view's freshness in meta and as Last-Modified: real-time over the runs topic", async () => {
      const res = await post(FAILED_JOBS, {}).expect(200);
      const meta = res.body.meta as Record<string, unknown>;
      expect(Object.keys(meta)).to.have.members(['view', 'refreshed_at', 'staleness_ms', 'database', 'replica_lag_ms', 'realtime', 'tail_rows', 'source_checked_at', 'row_count', 'truncated']);
      expect(meta.view).to.equal('eventstats.mv_job_facts');
      expect(meta.row_count).to.equal(res.body.data.length);
      expect(meta.refreshed_at).to.be.a('string');
      expect(meta.source_checked_at).to.be.a('string');
      expect(meta).to.include({ realtime: true, staleness_ms: 0, tail_rows: 0, database: 'primary', replica_lag_ms: null });
      expect(res.headers['last-modified']).to.equal(new Date(meta.refreshed_at as string).toUTCString());
    });

    it('is as of the last refresh for the status topic, and for a query REALTIME_OFF names', async () => {
      const summary = await post(`/stats/public.cps.za.status_change/query/run_status_summary`, {}).expect(200);
      const off = await httpHarness(s.executor, { realtime: (q) => q !== 'failed_jobs' });
      try {
        const failed = await request(off.app).post(FAILED_JOBS).set('Authorization', off.bearer('alice')).send({}).expect(200);
        for (const meta of [summary.body.meta, failed.body.meta] as Record<string, unknown>[]) {
          expect(meta).to.include({ realtime: false, tail_rows: null });
          expect(meta.staleness_ms).to.equal(Math.max(0, NOW - Date.parse(meta.refreshed_at as string)));
        }
      } finally {
        await off.close();
      }
    });

    it('echoes the parameters normalised: a filter value as a list, defaults applied, days turned into timestamps', async () => {
      const res = await post(FAILED_JOBS, { tenant_id: 'tenant-01', days: 3 }).expect(200);
      expect(res.body.params).to.deep.equal({
        tenant_id: ['tenant-01'],
        group_by: ['tenant_id', 'source_app'],
        limit: 100,
        timestamp_start: NOW - 3 * DAY_MS,
        timestamp_end: NOW,
      });
      for (const row of res.body.data as Record<string, unknown>[]) expect(row.tenant_id).to.equal('tenant-01');
    });

    it('de-duplicates a filter list', async () => {
      const res = await post(FAILED_JOBS, { environment: ['prod', 'prod', 'uat'] }).expect(200);
      expect(res.body.params.environment).to.deep.equal(['prod', 'uat']);
    });

    it('sets meta.truncated when more groups exist than the limit', async () => {
      const one = await post(FAILED_JOBS, { limit: 1 }).expect(200);
      expect(one.body.data).to.have.length(1);
      expect(one.body.meta).to.include({ row_count: 1, truncated: true });
      const all = await post(FAILED_JOBS, { limit: 1000 }).expect(200);
      expect(all.body.data.length).to.be.greaterThan(1);
      expect(all.body.meta.truncated).to.equal(false);
      expect(all.body.data[0]).to.deep.equal(one.body.data[0]);
    });
  });

  describe('answers 400 "validation"', () => {
    async function rejected(path: string, body: object): Promise<string> {
      const res = await post(path, body).expect(400);
      const error = onlyError(res.body);
      expect(error.type).to.equal('validation');
      return error.message;
    }

    it('naming every supported query of the topic when the name is unknown', async () => {
      const message = await rejected(`/stats/${RUNS_TOPIC}/query/nope`, {});
      const names = queriesOf(RUNS_TOPIC).map((q) => q.name);
      expect(names).to.have.length.greaterThan(1);
      expect(message).to.equal(`unknown query 'nope' for topic '${RUNS_TOPIC}'; supported: ${names.join(', ')}`);
    });

    it('saying (none) for a topic without compiled queries', async () => {
      expect(await rejected('/stats/public.cps.za.test/query/failed_jobs', {})).to.match(/supported: \(none\)$/);
    });

    it('naming an unknown body key', async () => {
      expect(await rejected(FAILED_JOBS, { tenant: 'x' })).to.equal("unknown field(s) 'tenant': not accepted here");
    });

    it('when timestamp_start is after timestamp_end', async () => {
      expect(await rejected(FAILED_JOBS, { timestamp_start: NOW, timestamp_end: NOW - 1 })).to.equal("'timestamp_start' must not be after 'timestamp_end'");
    });

    it('when the window is longer than 366 days', async () => {
      expect(await rejected(FAILED_JOBS, { timestamp_start: NOW - 367 * DAY_MS, timestamp_end: NOW })).to.equal('the window must not be longer than 366 days');
    });

    it('when days is 0', async () => {
      expect(await rejected(FAILED_JOBS, { days: 0 })).to.equal("'days': must be an integer from 1 to 366");
    });

    it('naming a string PostgreSQL cannot store (NUL, an unpaired surrogate), value or key, on every query', async () => {
      const TREND = `/stats/${RUNS_TOPIC}/query/job_status_trend`;
      const rule = 'must not contain NUL (\\u0000) or an unpaired surrogate (not storable as text)';
      expect(await rejected(TREND, { catalog_id: '\u0000' })).to.equal(`'catalog_id': ${rule}`);
      expect(await rejected(FAILED_JOBS, { tenant_id: ['tenant-01', 'a\ud800'] })).to.equal(`'tenant_id.1': ${rule}`);
      expect(await rejected(FAILED_JOBS, { country: 'x\udc00y' })).to.equal(`'country': ${rule}`);
      expect(await rejected(FAILED_JOBS, { ['bad\u0000key']: 1 })).to.equal(`'bad?key': ${rule}`);
      for (const q of queriesOf(RUNS_TOPIC)) await rejected(`/stats/${RUNS_TOPIC}/query/${q.name}`, { tenant_id: 'nul\u0000' });
      // A well-formed pair (an emoji) is stored fine.
      await post(FAILED_JOBS, { tenant_id: 'tenant-\ud83d\ude00' }).expect(200);
    });

    it('when an epoch-ms bound is outside the dates PostgreSQL and JavaScript both hold', async () => {
      const SUMMARY = '/stats/public.cps.za.status_change/query/run_status_summary';
      for (const body of [{ timestamp_start: 8.7e15 }, { timestamp_start: 8.7e15, timestamp_end: 8.7e15 + 1 }, { timestamp_end: -1e15 }]) {
        expect(await rejected(SUMMARY, body)).to.match(/^'timestamp_(start|end)': must be an integer \(epoch ms\) from -62135596800000 \(0001-01-01\) to 253402300799999 \(9999-12-31\)(; |$)/);
      }
      expect(await rejected(SUMMARY, { timestamp_end: -62135596800000 })).to.equal('the window must not start before -62135596800000 (0001-01-01)');
      await post(SUMMARY, { timestamp_start: 253402300799999 - DAY_MS, timestamp_end: 253402300799999 }).expect(200);
    });

    it('when days is combined with a timestamp', async () => {
      expect(await rejected(FAILED_JOBS, { days: 2, timestamp_end: NOW })).to.include("'days' cannot be combined");
    });

    it('naming group_by when it holds an unknown dimension', async () => {
      expect(await rejected(FAILED_JOBS, { group_by: ['nope'] })).to.match(/^'group_by\.0': must be a non-empty array of distinct values from tenant_id, source_app/);
    });

    it('naming group_by when it repeats a dimension', async () => {
      expect(await rejected(FAILED_JOBS, { group_by: ['tenant_id', 'tenant_id'] })).to.match(/^'group_by': /);
    });

    it('naming limit when it is above 1000', async () => {
      expect(await rejected(FAILED_JOBS, { limit: 1001 })).to.equal("'limit': must be an integer from 1 to 1000");
    });

    it('when the body is not an object', async () => {
      expect(await rejected(FAILED_JOBS, ['tenant_id'])).to.equal('body: must be a JSON object');
    });
  });

  describe('access', () => {
    it('answers 403 "permission" when a constrained user filters on a tenant outside her patterns', async () => {
      const res = await post(FAILED_JOBS, { tenant_id: 'tenant-09' }, 'carol').expect(403);
      expect(onlyError(res.body)).to.deep.equal({
        type: 'permission',
        message: "filter 'tenant_id' asks for 'tenant-09', which is outside your access constraints",
      });
    });

    it('lets a constrained user filter inside her patterns, and scopes her rows', async () => {
      const res = await post(FAILED_JOBS, { tenant_id: ['tenant-01', 'tenant-02'], group_by: ['tenant_id', 'environment'], days: 30 }, 'carol').expect(200);
      expect(res.body.data).to.have.length.greaterThan(0);
      for (const row of res.body.data as Record<string, unknown>[]) {
        expect(['tenant-01', 'tenant-02']).to.include(row.tenant_id);
        expect(row.environment).to.equal('prod');
      }
    });

    it('answers 403 "permission" when a constrained user filters on an environment outside her patterns', async () => {
      const res = await post(FAILED_JOBS, { environment: ['prod', 'uat'] }, 'carol').expect(403);
      expect(onlyError(res.body).message).to.equal("filter 'environment' asks for 'uat', which is outside your access constraints");
    });

    it('answers 403 "auth" to a user not listed for the topic', async () => {
      const res = await post(FAILED_JOBS, {}, 'bob').expect(403);
      expect(onlyError(res.body)).to.deep.equal({ type: 'auth', message: `user 'bob' is not allowed to read topic '${RUNS_TOPIC}'` });
    });

    it('answers 401 without a token', async () => {
      const res = await request(h.app).post(FAILED_JOBS).send({}).expect(401);
      expect(onlyError(res.body)).to.deep.equal({ type: 'auth', message: 'missing bearer token' });
    });
  });

  describe('GET /stats/{topic_name}/queries', () => {
    it("lists the topic's queries with their JSON-Schema parameters and columns", async () => {
      const res = await request(h.app).get(`/stats/${RUNS_TOPIC}/queries`).set('Authorization', h.bearer('alice')).expect(200);
      expect(res.body).to.include({ success: true, statusCode: 200, topic: RUNS_TOPIC });
      const expected = queriesOf(RUNS_TOPIC).map((q) => ({
        name: q.name,
        description: q.description,
        parameters: paramsJsonSchema(q),
        columns: q.columns,
        view: q.rollup.view,
      }));
      expect(res.body.data).to.deep.equal(expected);
    });

    it('answers 403 "auth" to a user not listed for the topic', async () => {
      const res = await request(h.app).get(`/stats/${RUNS_TOPIC}/queries`).set('Authorization', h.bearer('bob')).expect(403);
      expect(onlyError(res.body).type).to.equal('auth');
    });
  });

  describe('GET /api', () => {
    it('answers the OpenAPI document without a token', async () => {
      const res = await request(h.app).get('/api').expect(200);
      expect(res.body.openapi).to.equal('3.1.0');
      expect(Object.keys(res.body.paths)).to.include(FAILED_JOBS);
    });
  });
});
