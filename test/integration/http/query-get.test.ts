/**
 * GET /stats/{topic_name}/query/{query_name}: the same parameters, answers and errors as the POST
 * (the query string read as the body would be), and the HTTP caching of both: a strong ETag,
 * If-None-Match answered 304, Cache-Control bounded by the view's schedule and the window, Vary.
 */
import { expect } from 'chai';
import request from 'supertest';
import { LIVE_MAX_AGE_SECONDS, PAST_MAX_AGE_SECONDS, VARY } from '../../../src/http/caching.ts';
import { parameterTakes } from '../../../src/http/query-string.ts';
import { registeredViews, SUPPORTED_QUERIES } from '../../../src/declarations/index.ts';
import { PartsCache } from '../../../src/read/parts-cache.ts';
import type { CompiledQuery } from '../../../src/declarations/types.ts';
import { DAY_MS, HOUR_MS } from '../../../src/rollup/window.ts';
import { refreshViews } from '../../../src/refresh/refresh-view.ts';
import { NOW, REFRESH_OPTIONS, seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { httpHarness, onlyError, RUNS_TOPIC, type HttpHarness, type User } from '../../helpers/http.ts';

const FAILED_JOBS = `/stats/${RUNS_TOPIC}/query/failed_jobs`;
const pathOf = (q: Pick<CompiledQuery, 'topic' | 'name'>) => `/stats/${q.topic}/query/${q.name}`;
/** A run far before the seeded 30 days: a window on it holds only the rows a test writes. */
const T0 = Date.UTC(2026, 7, 3, 23, 30, 0, 0);

// meta.staleness_ms says when and how an answer was served (a poll answered from the process says
// how long ago the probe began): two deliveries of one answer differ there only, as the weak ETag
// that leaves it out says.
const sansStaleness = (text: string) => text.replace(/"staleness_ms":(\d+|null)/, '"staleness_ms":null');
const bodySansStaleness = (body: { meta?: Record<string, unknown> }) => ({ ...body, meta: { ...body.meta, staleness_ms: null } });

type Body = Record<string, unknown> | string;

/** Pairs of a query string and the POST body it stands for, on every parameter the query takes. */
function equivalents(query: CompiledQuery): { search: string; body: Body }[] {
  const takes = parameterTakes(query);
  const start = NOW - 20 * DAY_MS + 12_345;
  const end = NOW - 2 * DAY_MS - 777;
  const out: { search: string; body: Body }[] = [
    { search: '', body: {} },
    { search: 'days=30', body: { days: 30 } },
    { search: `timestamp_start=${start}&timestamp_end=${end}`, body: { timestamp_start: start, timestamp_end: end } },
    { search: `timestamp_end=${end}`, body: { timestamp_end: end } },
    {
      search: 'days=30&tenant_id=tenant-01,tenant-02&tenant_id=tenant-03&environment=prod',
      body: { days: 30, tenant_id: ['tenant-01', 'tenant-02', 'tenant-03'], environment: 'prod' },
    },
    { search: 'days=30&tenant_id=tenant-01&tenant_id=tenant-01', body: { days: 30, tenant_id: ['tenant-01', 'tenant-01'] } },
  ];
  if (takes.has('group_by')) {
    out.push(
      { search: 'days=30&group_by=tenant_id,environment', body: { days: 30, group_by: ['tenant_id', 'environment'] } },
      { search: 'days=30&group_by=environment&group_by=tenant_id&limit=3', body: { days: 30, group_by: ['environment', 'tenant_id'], limit: 3 } },
    );
  }
  if (takes.has('limit')) out.push({ search: 'days=30&limit=2', body: { days: 30, limit: 2 } });
  if (takes.has('bucket')) out.push({ search: 'days=3&bucket=hour&source_app=app-01,app-02', body: { days: 3, bucket: 'hour', source_app: ['app-01', 'app-02'] } });
  return out;
}

/** Requests each query's validation refuses, as a query string and as the body it stands for. */
const REFUSED: { search: string; body: Body }[] = [
  { search: 'tenant=x', body: { tenant: 'x' } },
  { search: 'tenant=x&other=1&other=2', body: { tenant: 'x', other: ['1', '2'] } },
  { search: 'days=0', body: { days: 0 } },
  { search: 'days=abc', body: { days: 'abc' } },
  { search: 'days=07', body: { days: '07' } },
  { search: 'days=1.5', body: { days: 1.5 } },
  { search: 'days=1e400', body: '{"days":1e400}' },
  { search: 'days=', body: { days: '' } },
  { search: 'days=1&days=2', body: { days: ['1', '2'] } },
  { search: 'limit=1001', body: { limit: 1001 } },
  { search: 'group_by=nope', body: { group_by: ['nope'] } },
  { search: 'group_by=tenant_id,tenant_id', body: { group_by: ['tenant_id', 'tenant_id'] } },
  { search: 'group_by=', body: { group_by: [] } },
  { search: `days=2&timestamp_end=${NOW}`, body: { days: 2, timestamp_end: NOW } },
  { search: `timestamp_start=${NOW}&timestamp_end=${NOW - 1}`, body: { timestamp_start: NOW, timestamp_end: NOW - 1 } },
  { search: `timestamp_start=${NOW - 367 * DAY_MS}&timestamp_end=${NOW}`, body: { timestamp_start: NOW - 367 * DAY_MS, timestamp_end: NOW } },
  { search: 'timestamp_start=8.7e15', body: { timestamp_start: 8.7e15 } },
  { search: 'tenant_id=%00', body: { tenant_id: '\u0000' } },
  { search: 'tenant_id=ok&tenant_id=a%00b', body: { tenant_id: ['ok', 'a\u0000b'] } },
  { search: `tenant_id=${'x'.repeat(256)}`, body: { tenant_id: 'x'.repeat(256) } },
  { search: Array.from({ length: 101 }, (_, i) => `tenant_id=t${i}`).join('&'), body: { tenant_id: Array.from({ length: 101 }, (_, i) => `t${i}`) } },
  { search: 'format=xml', body: { format: 'xml' } },
  { search: 'format=csv&format=json', body: { format: ['csv', 'json'] } },
  { search: 'format=', body: { format: '' } },
  { search: 'format=xml&tenant=x', body: { format: 'xml', tenant: 'x' } },
];

describe('GET /stats/{topic_name}/query/{query_name}, and HTTP caching of compiled-query answers', function () {
  this.timeout(180_000);
  let s: SeededDatabase;
  let h: HttpHarness;

  const get = (path: string, search = '', user: User = 'alice') => request(h.app).get(search ? `${path}?${search}` : path).set('Authorization', h.bearer(user));
  const post = (path: string, body: Body, user: User = 'alice') => {
    const r = request(h.app).post(path).set('Authorization', h.bearer(user));
    return typeof body === 'string' ? r.set('Content-Type', 'application/json').send(body) : r.send(body);
  };

  before(async () => {
    s = await seededDatabase({ runs: 2_000, days: 30 });
    // Versions read on every request, so a refresh reaches the next answer at once.
    h = await httpHarness(s.executor, { parts: new PartsCache({ stateTtlMs: 0 }) });
  });
  after(async () => {
    await h?.close();
    await s?.close();
  });

  describe('answers exactly as the POST with the same parameters', () => {
    for (const query of SUPPORTED_QUERIES) {
      it(`${query.name}: the same bytes (params, data, meta) and the same ETag, lists given as comma lists and repeated keys`, async () => {
        let withRows = 0;
        const answers = new Set<string>();
        for (const { search, body } of equivalents(query)) {
          const byGet = await get(pathOf(query), search);
          const byPost = await post(pathOf(query), body);
          expect(byGet.status, search).to.equal(200);
          expect(byPost.status, search).to.equal(200);
          expect(bodySansStaleness(byGet.body), search).to.deep.equal(bodySansStaleness(byPost.body));
          expect(sansStaleness(byGet.text), search).to.equal(sansStaleness(byPost.text));
          expect(byGet.headers.etag, search).to.equal(byPost.headers.etag);
          if (byGet.body.data.length > 0) withRows += 1;
          answers.add(sansStaleness(byGet.text));
        }
        // The parameters took effect: the answers are not all the default one.
        expect(answers.size).to.equal(equivalents(query).length);
        expect(withRows).to.be.greaterThan(2);
      });
    }

    it('reads the upstream bare bearer header as the POST does', async () => {
      const token = h.bearer('alice').slice('Bearer '.length);
      const res = await request(h.app).get(`${FAILED_JOBS}?days=30`).set('bearer', token).expect(200);
      expect(bodySansStaleness(res.body)).to.deep.equal(bodySansStaleness((await post(FAILED_JOBS, { days: 30 })).body));
    });
  });

  describe('refuses what the POST refuses, with the same status and error', () => {
    for (const query of SUPPORTED_QUERIES) {
      it(`${query.name}: every refused parameter set answers the POST's 400, naming the field`, async () => {
        let refused = 0;
        for (const { search, body } of REFUSED) {
          const byGet = await get(pathOf(query), search);
          const byPost = await post(pathOf(query), body);
          const what = `${query.name}?${search.slice(0, 80)}`;
          expect({ status: byGet.status, body: byGet.body }, what).to.deep.equal({ status: byPost.status, body: byPost.body });
          // run_status_summary takes an empty group_by (one group: the whole window).
          if (byPost.status === 200) continue;
          expect(byPost.status, what).to.equal(400);
          expect(onlyError(byGet.body).type, what).to.equal('validation');
          refused += 1;
        }
        expect(refused).to.be.at.least(REFUSED.length - 1);
      });
    }

    it("names format and the formats it takes", async () => {
      const res = await get(FAILED_JOBS, 'format=xml').expect(400);
      expect(onlyError(res.body).message).to.equal("'format': must be one of 'json', 'csv'");
    });

    it('names an unknown query parameter as it names an unknown body field', async () => {
      const res = await get(FAILED_JOBS, 'tenant=x&days=3').expect(400);
      expect(onlyError(res.body).message).to.equal("unknown field(s) 'tenant': not accepted here");
    });

    it('names every supported query when the name is unknown', async () => {
      const byGet = await get(`/stats/${RUNS_TOPIC}/query/nope`).expect(400);
      const byPost = await post(`/stats/${RUNS_TOPIC}/query/nope`, {}).expect(400);
      expect(byGet.body).to.deep.equal(byPost.body);
    });

    it('answers 403 "permission" to a constrained user filtering outside her patterns, 403 "auth" to a user not on the topic, 401 without a token', async () => {
      for (const [search, body, user] of [['tenant_id=tenant-09', { tenant_id: 'tenant-09' }, 'carol'], ['environment=prod,uat', { environment: ['prod', 'uat'] }, 'carol'], ['', {}, 'bob']] as const) {
        const byGet = await get(FAILED_JOBS, search, user).expect(403);
        const byPost = await post(FAILED_JOBS, body, user).expect(403);
        expect(byGet.body).to.deep.equal(byPost.body);
      }
      const res = await request(h.app).get(FAILED_JOBS).expect(401);
      expect(onlyError(res.body)).to.deep.equal({ type: 'auth', message: 'missing bearer token' });
    });

    it('answers 400 naming a malformed percent-escape, rather than reading it as U+FFFD', async () => {
      const res = await get(FAILED_JOBS, 'tenant_id=%E0%A4%A').expect(400);
      expect(onlyError(res.body)).to.deep.equal({ type: 'validation', message: "query: '%E0%A4%A' is not valid percent-encoded UTF-8" });
    });

    it('answers 400 to a GET carrying a body, which it would otherwise ignore', async () => {
      const res = await request(h.app).get(FAILED_JOBS).set('Authorization', h.bearer('alice')).set('Content-Type', 'application/json').send({ days: 3 }).expect(400);
      expect(onlyError(res.body).message).to.equal('body: a GET takes its parameters in the query string; send a body with POST');
    });
  });

  describe('caching', () => {
    const PAST = `timestamp_start=${NOW - 3 * DAY_MS}&timestamp_end=${NOW - 2 * HOUR_MS}`;

    it('gives GET and POST answers an ETag (weak for JSON, which leaves meta.staleness_ms out), Cache-Control private with a max-age, and Vary on the token headers and Accept', async () => {
      for (const res of [await get(FAILED_JOBS, PAST).expect(200), await post(FAILED_JOBS, { timestamp_start: NOW - 3 * DAY_MS, timestamp_end: NOW - 2 * HOUR_MS }).expect(200)]) {
        expect(res.headers.etag).to.match(/^W\/"[A-Za-z0-9_-]{43}"$/);
        expect(res.headers['cache-control']).to.match(/^private, max-age=\d+$/);
        expect(res.headers.vary).to.equal(VARY);
        expect(VARY.split(', ')).to.include.members(['Authorization', 'bearer']);
      }
    });

    it('keeps the ETag while the answer is the same, and gives another answer another ETag', async () => {
      const a = await get(FAILED_JOBS, PAST).expect(200);
      const b = await get(FAILED_JOBS, PAST).expect(200);
      const other = await get(FAILED_JOBS, `${PAST}&limit=1`).expect(200);
      expect(b.headers.etag).to.equal(a.headers.etag);
      expect(other.headers.etag).not.to.equal(a.headers.etag);
    });

    it('answers 304 without a body when If-None-Match names the ETag: GET, HEAD and POST, weak form and lists too', async () => {
      const first = await get(FAILED_JOBS, PAST).expect(200);
      const etag = first.headers.etag as string;
      const opaque = etag.replace(/^W\//, '');
      for (const header of [etag, opaque, `"nope", ${etag}`, '*']) {
        const res = await get(FAILED_JOBS, PAST).set('If-None-Match', header).expect(304);
        expect(res.text, header).to.equal('');
        expect(res.headers.etag).to.equal(etag);
        expect(res.headers['cache-control']).to.equal(first.headers['cache-control']);
        expect(res.headers.vary).to.equal(VARY);
      }
      const headNotModified = await request(h.app).head(`${FAILED_JOBS}?${PAST}`).set('Authorization', h.bearer('alice')).set('If-None-Match', etag).expect(304);
      expect(headNotModified.headers.etag).to.equal(etag);
      const head = await request(h.app).head(`${FAILED_JOBS}?${PAST}`).set('Authorization', h.bearer('alice')).expect(200);
      expect(head.headers.etag).to.equal(etag);
      const body = { timestamp_start: NOW - 3 * DAY_MS, timestamp_end: NOW - 2 * HOUR_MS };
      const byPost = await post(FAILED_JOBS, body).set('If-None-Match', etag).expect(304);
      expect(byPost.text).to.equal('');
      const stale = await get(FAILED_JOBS, PAST).set('If-None-Match', '"stale"').expect(200);
      expect(bodySansStaleness(stale.body)).to.deep.equal(bodySansStaleness(first.body));
    });

    it('still requires a token and the ACL before a 304', async () => {
      const etag = (await get(FAILED_JOBS, PAST).expect(200)).headers.etag as string;
      const anonymous = await request(h.app).get(`${FAILED_JOBS}?${PAST}`).set('If-None-Match', etag).expect(401);
      expect(onlyError(anonymous.body).type).to.equal('auth');
      const other = await get(FAILED_JOBS, PAST, 'bob').set('If-None-Match', etag).expect(403);
      expect(onlyError(other.body).type).to.equal('auth');
    });

    it('does not answer 304 on If-Modified-Since: a real-time answer changes between refreshes', async () => {
      const first = await get(FAILED_JOBS, PAST).expect(200);
      expect(first.headers['last-modified']).to.be.a('string');
      const again = await get(FAILED_JOBS, PAST).set('If-Modified-Since', first.headers['last-modified'] as string).expect(200);
      expect(bodySansStaleness(again.body)).to.deep.equal(bodySansStaleness(first.body));
    });

    it("bounds max-age by the view's next cycle for a past window (38 s before 13:38:00) and by the live bound for one reaching now", async () => {
      expect((await get(FAILED_JOBS, PAST)).headers['cache-control']).to.equal('private, max-age=38');
      for (const search of ['', 'days=7', `timestamp_end=${NOW}`, `timestamp_start=${NOW - HOUR_MS}&timestamp_end=${NOW + DAY_MS}`]) {
        expect((await get(FAILED_JOBS, search)).headers['cache-control'], search).to.equal(`private, max-age=${LIVE_MAX_AGE_SECONDS}`);
      }
      // The last minute and the one before it are not sealed: a window ending in them is live.
      const lastMinutes = `timestamp_start=${NOW - DAY_MS}&timestamp_end=${NOW - 80_000}`;
      expect((await get(FAILED_JOBS, lastMinutes)).headers['cache-control']).to.equal(`private, max-age=${LIVE_MAX_AGE_SECONDS}`);
    });

    it('follows REFRESH_SCHEDULES, and caps a past window at PAST_MAX_AGE_SECONDS under a sparse schedule', async () => {
      const hourly = await httpHarness(s.executor, { refreshSchedules: Object.fromEntries(registeredViews().map((v) => [v.name, '0 * * * *'])) });
      try {
        const past = await request(hourly.app).get(`${FAILED_JOBS}?${PAST}`).set('Authorization', hourly.bearer('alice')).expect(200);
        expect(past.headers['cache-control']).to.equal(`private, max-age=${PAST_MAX_AGE_SECONDS}`);
        const live = await request(hourly.app).get(`${FAILED_JOBS}?days=1`).set('Authorization', hourly.bearer('alice')).expect(200);
        expect(live.headers['cache-control']).to.equal(`private, max-age=${LIVE_MAX_AGE_SECONDS}`);
      } finally {
        await hourly.close();
      }
    });

    it('sends errors uncached and without ETag or Vary, even when CSV was asked for', async () => {
      for (const res of [await get(FAILED_JOBS, 'days=0&format=csv'), await get(FAILED_JOBS, 'days=0').set('Accept', 'text/csv'), await request(h.app).get(FAILED_JOBS).set('Accept', 'text/csv')]) {
        expect(res.status).to.be.within(400, 401);
        expect(res.headers['content-type']).to.equal('application/json; charset=utf-8');
        expect(res.headers['cache-control']).to.equal('no-store');
        expect(res.headers.etag).to.equal(undefined);
        expect(res.headers['content-disposition']).to.equal(undefined);
      }
    });

    it('answers 200 with a new ETag once the data changes (a late job, then a refresh), and 304 again on the new one', async () => {
      const window = `timestamp_start=${T0 - DAY_MS}&timestamp_end=${T0 + DAY_MS}&group_by=tenant_id`;
      const run = 'etag-run';
      await s.db.pool.query(
        `INSERT INTO public_cps_za_runs (event_id, job_ref, tenant_id, source_app, source_app_version, environment, timestamp_start, timestamp_end)
         VALUES ($1, 'ref', 'tenant-etag', 'app-etag', '1', 'prod', $2, $3)`,
        [run, T0, T0 + 60_000],
      );
      const addFailedJob = () =>
        s.db.pool.query(
          `INSERT INTO public_cps_za_runs_jobs (event_id, country, catalog_id, status, timestamp_start, timestamp_end, message, additional_info)
           VALUES ($1, 'ZA', 'cat-etag', 'failed', $2, $3, 'boom', NULL)`,
          [run, T0 + 1_000, T0 + 2_000],
        );
      await addFailedJob();

      const first = await get(FAILED_JOBS, window).expect(200);
      expect(first.body.data).to.deep.equal([{ tenant_id: 'tenant-etag', failed_count: 1, job_count: 1, failure_rate: 1, last_failure_at: T0 + 2_000 }]);
      const firstCsv = await get(FAILED_JOBS, `${window}&format=csv`).expect(200);
      const again = await get(FAILED_JOBS, window).set('If-None-Match', first.headers.etag as string);
      expect(again.status, JSON.stringify([first.headers.etag, again.headers.etag, first.body.meta, again.body.meta])).to.equal(304);

      // A late job counts at once (real time): the answer, and so its ETag, changes before any refresh.
      await addFailedJob();
      const late = await get(FAILED_JOBS, window).set('If-None-Match', first.headers.etag as string).expect(200);
      expect(late.headers.etag).not.to.equal(first.headers.etag);
      expect(late.body.data[0]).to.include({ failed_count: 2, job_count: 2 });
      expect(late.body.meta.tail_rows).to.be.greaterThan(0);
      const lateCsv = await get(FAILED_JOBS, `${window}&format=csv`).set('If-None-Match', firstCsv.headers.etag as string).expect(200);
      expect(lateCsv.headers.etag).not.to.equal(firstCsv.headers.etag);

      // The refresh absorbs it: the same rows, but meta (refreshed_at, tail_rows) moves, so the JSON ETag does.
      await refreshViews(s.db.pool, registeredViews(), REFRESH_OPTIONS);
      const refreshed = await get(FAILED_JOBS, window).set('If-None-Match', late.headers.etag as string).expect(200);
      expect(refreshed.headers.etag).not.to.equal(late.headers.etag);
      expect(refreshed.body.data).to.deep.equal(late.body.data);
      expect(refreshed.body.meta.refreshed_at).not.to.equal(late.body.meta.refreshed_at);
      await get(FAILED_JOBS, window).set('If-None-Match', refreshed.headers.etag as string).expect(304);

      // The CSV holds the rows only: its ETag changed with the late job (above), and not with the refresh.
      await get(FAILED_JOBS, `${window}&format=csv`).set('If-None-Match', lateCsv.headers.etag as string).expect(304);
    });
  });
});
