/**
 * POST /stats/{topic_name} over HTTP: the upstream gateway's contract (validation, paging, computed
 * fields, row scoping), against a seeded database plus a few hand-made rows with exact expectations.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import request from 'supertest';
import { DAY_MS } from '../../../src/rollup/window.ts';
import { insertHandRun, NOW, seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { CAROL_CONSTRAINTS, httpHarness, onlyError, RUNS_TOPIC, type HttpHarness, type User } from '../../helpers/http.ts';

type Row = Record<string, unknown>;

/** A run far before the seeded 30 days, so a window on it holds only the hand-made rows. */
const T0 = Date.UTC(2026, 7, 3, 23, 30, 0, 0);
const HAND_RUN = {
  event_id: 'hand-made-run',
  job_ref: 'ref-hand',
  tenant_id: 'Tenant-HandMade',
  source_app: 'app-hand',
  source_app_version: '1.2.3',
  environment: 'prod',
  timestamp_start: T0,
  timestamp_end: T0 + 3_600_000,
};
/** The jobs, in insertion order, with what the endpoint must compute for each. */
const HAND_JOBS = [
  {
    job: { country: 'ZA', catalog_id: 'cat-a', status: 'failed', timestamp_start: T0 + 1_000, timestamp_end: T0 + 61_500, message: 'No data received', additional_info: { attempt: 1 } },
    computed: { run_status: 'no data received', elapsed_time: 60_500, start_time: '2026-08-03 23:30:01', end_time: '2026-08-03 23:31:01' },
  },
  {
    job: { country: 'BW', catalog_id: 'cat-b', status: 'FAILED', timestamp_start: T0 + 2_000, timestamp_end: T0 + 45 * 60_000, message: 'Nothing left: no records to send', additional_info: null },
    computed: { run_status: 'no data produced', elapsed_time: 45 * 60_000 - 2_000, start_time: '2026-08-03 23:30:02', end_time: '2026-08-04 00:15:00' },
  },
  {
    job: { country: 'KE', catalog_id: 'cat-c', status: 'Failed', timestamp_start: T0, timestamp_end: T0, message: 'java.lang.OutOfMemoryError', additional_info: ['a', 2] },
    computed: { run_status: 'failed', elapsed_time: 0, start_time: '2026-08-03 23:30:00', end_time: '2026-08-03 23:30:00' },
  },
  {
    job: { country: null, catalog_id: 'cat-d', status: 'succeeded', timestamp_start: T0 + 5_000, timestamp_end: null, message: 'No data received', additional_info: null },
    computed: { run_status: 'succeeded', elapsed_time: null, start_time: '2026-08-03 23:30:05', end_time: null },
  },
  {
    job: { country: null, catalog_id: 'cat-e', status: 'skipped', timestamp_start: null, timestamp_end: null, message: null, additional_info: null },
    computed: { run_status: 'succeeded', elapsed_time: null, start_time: null, end_time: null },
  },
] as const;

describe('POST /stats/{topic_name}, the raw rows of the upstream contract', function () {
  this.timeout(120_000);
  let s: SeededDatabase;
  let h: HttpHarness;
  const handIds: number[] = [];

  const post = (body: unknown, user: User = 'alice', topic: string = RUNS_TOPIC) =>
    request(h.app).post(`/stats/${topic}`).set('Authorization', h.bearer(user)).send(body as object);

  /** The internal_ids of the jobs whose run starts in [start, end], optionally within carol's scope, newest first. */
  async function idsInWindow(start: number, end: number, scoped = false): Promise<number[]> {
    const scope = scoped ? 'AND r.tenant_id ~ ANY($3) AND r.environment ~ ANY($4)' : '';
    const values: unknown[] = [start, end];
    if (scoped) values.push(CAROL_CONSTRAINTS.tenant_id.map((p) => `^(?:${p})$`), CAROL_CONSTRAINTS.environment.map((p) => `^(?:${p})$`));
    const { rows } = await s.db.pool.query<{ internal_id: number }>(
      `SELECT j.internal_id FROM public_cps_za_runs_jobs j JOIN public_cps_za_runs r ON j.event_id = r.event_id
        WHERE r.timestamp_start >= $1 AND r.timestamp_start <= $2 ${scope} ORDER BY j.internal_id DESC`,
      values,
    );
    return rows.map((r) => r.internal_id);
  }

  before(async () => {
    s = await seededDatabase({ runs: 2_000, days: 30 });
    h = await httpHarness(s.executor);
    handIds.push(...(await insertHandRun(s.db.pool, HAND_RUN, HAND_JOBS.map((j) => j.job))));
  });
  after(async () => {
    await h?.close();
    await s?.close();
  });

  describe('topic', () => {
    it('is matched lower-cased, so PUBLIC.CPS.ZA.RUNS answers like public.cps.za.runs', async () => {
      const body = { timestamp_start: T0, timestamp_end: T0 };
      const upper = await post(body, 'alice', 'PUBLIC.CPS.ZA.RUNS').expect(200);
      const lower = await post(body).expect(200);
      expect(upper.body).to.deep.equal(lower.body);
      expect(upper.body.data).to.have.length(HAND_JOBS.length);
    });

    it('answers 404 "topic" when the topic is unknown', async () => {
      const res = await post({}, 'alice', 'public.cps.za.nope').expect(404);
      expect(onlyError(res.body)).to.deep.equal({ type: 'topic', message: "topic 'public.cps.za.nope' not found" });
      expect(res.body.statusCode).to.equal(404);
    });

    it('answers 400 "validation" for a known topic that has no raw stats', async () => {
      const res = await post({}, 'alice', 'public.cps.za.test').expect(400);
      expect(onlyError(res.body).type).to.equal('validation');
      expect(onlyError(res.body).message).to.include(RUNS_TOPIC);
    });
  });

  describe('body validation', () => {
    const fields = ['timestamp_start', 'timestamp_end', 'cursor', 'limit'] as const;
    const wrong = { boolean: true, float: 1.5, string: '1000', object: { n: 1 } };

    for (const field of fields) {
      for (const [kind, value] of Object.entries(wrong)) {
        it(`answers 400 naming ${field} when it is a ${kind}`, async () => {
          const res = await post({ [field]: value }).expect(400);
          const error = onlyError(res.body);
          expect(error.type).to.equal('validation');
          expect(error.message).to.match(new RegExp(`^'${field}': must be `));
        });
      }
    }

    it('answers 400 naming a string or key PostgreSQL cannot store, and a cursor or bound past what the columns hold', async () => {
      for (const [body, field] of [
        [{ ['x\u0000']: 1 }, 'x?'],
        [{ note: ['ok', '\udfff'] }, 'note.1'],
        [{ cursor: 2 ** 40 }, 'cursor'],
        [{ cursor: -1 }, 'cursor'],
        [{ timestamp_start: 9e15 }, 'timestamp_start'],
      ] as const) {
        const res = await post(body).expect(400);
        const error = onlyError(res.body);
        expect(error.type).to.equal('validation');
        expect(error.message, JSON.stringify(body)).to.match(new RegExp(`^'${field.replace('?', '\\?')}': must `));
      }
    });

    it('answers 400 naming limit when it is 0 or negative', async () => {
      for (const limit of [0, -5]) {
        const res = await post({ limit }).expect(400);
        expect(onlyError(res.body).message).to.equal("'limit': must be a positive integer");
      }
    });

    it('treats null fields as absent, as upstream', async () => {
      const res = await post({ timestamp_start: null, timestamp_end: null, cursor: null, limit: null }).expect(200);
      const defaults = await post({}).expect(200);
      expect(res.body).to.deep.equal(defaults.body);
      expect(res.body.pagination.limit).to.equal(50);
    });

    it('ignores unknown fields, as upstream', async () => {
      const res = await post({ timestamp_start: T0, timestamp_end: T0, whatever: 1 }).expect(200);
      expect(res.body.data).to.have.length(HAND_JOBS.length);
    });

    it('answers 400 when the body is a JSON array', async () => {
      const res = await post([{ limit: 1 }]).expect(400);
      expect(onlyError(res.body)).to.deep.equal({ type: 'validation', message: 'body: must be a JSON object' });
    });

    it('answers 400 "validation" when the body is malformed JSON', async () => {
      const res = await request(h.app)
        .post(`/stats/${RUNS_TOPIC}`)
        .set('Authorization', h.bearer('alice'))
        .set('Content-Type', 'application/json')
        .send('{"limit": 1,')
        .expect(400);
      expect(onlyError(res.body)).to.deep.equal({ type: 'validation', message: 'body: malformed JSON' });
    });

    it('reads a body sent without a Content-Type header as JSON', async () => {
      const server = http.createServer(h.app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const payload = Buffer.from(JSON.stringify({ timestamp_start: T0, timestamp_end: T0, limit: 2 }));
        const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = http.request(
            {
              host: '127.0.0.1',
              port: (server.address() as AddressInfo).port,
              method: 'POST',
              path: `/stats/${RUNS_TOPIC}`,
              headers: { authorization: h.bearer('alice'), 'content-length': payload.length },
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
            },
          );
          req.on('error', reject);
          expect(req.getHeader('content-type')).to.equal(undefined);
          req.end(payload);
        });
        expect(answer.status).to.equal(200);
        const body = JSON.parse(answer.body) as { data: Row[]; pagination: { limit: number } };
        expect(body.pagination.limit).to.equal(2);
        expect(body.data.map((r) => r.internal_id)).to.deep.equal(handIds.slice(-2).reverse());
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });

  describe('paging', () => {
    it('clamps a limit above 1000 to 1000', async () => {
      const res = await post({ limit: 5000, timestamp_start: NOW - 30 * DAY_MS, timestamp_end: NOW }).expect(200);
      expect(res.body.pagination.limit).to.equal(1000);
      expect(res.body.data).to.have.length(1000);
      expect(res.body.pagination.has_more).to.equal(true);
    });

    it('orders rows by internal_id, descending', async () => {
      const res = await post({ limit: 200 }).expect(200);
      const ids = (res.body.data as Row[]).map((r) => r.internal_id as number);
      expect(ids).to.have.length(200);
      expect(ids).to.deep.equal([...ids].sort((a, b) => b - a));
    });

    it('covers the window with cursor pages, without overlap or gaps', async () => {
      const start = NOW - 4 * DAY_MS;
      const end = NOW - 2 * DAY_MS;
      const seen: number[] = [];
      let cursor: number | null = null;
      let pages = 0;
      for (;;) {
        const res = await post({ timestamp_start: start, timestamp_end: end, limit: 97, cursor }).expect(200);
        const page = res.body as { data: Row[]; pagination: { cursor: number | null; has_more: boolean; limit: number } };
        pages += 1;
        seen.push(...page.data.map((r) => r.internal_id as number));
        if (!page.pagination.has_more) {
          expect(page.pagination.cursor).to.equal(null);
          break;
        }
        expect(page.data).to.have.length(97);
        expect(page.pagination.cursor).to.equal(page.data.at(-1)!.internal_id);
        cursor = page.pagination.cursor;
      }
      const expected = await idsInWindow(start, end);
      expect(pages).to.be.greaterThan(2);
      expect(pages).to.equal(Math.max(1, Math.ceil(expected.length / 97)));
      expect(seen).to.deep.equal(expected);
    });

    it('defaults the window to the 7 days before now', async () => {
      const res = await post({ limit: 1000 }).expect(200);
      const expected = await idsInWindow(NOW - 7 * DAY_MS, NOW);
      expect(expected.length).to.be.greaterThan(1000);
      expect((res.body.data as Row[]).map((r) => r.internal_id)).to.deep.equal(expected.slice(0, 1000));
      const explicit = await post({ limit: 1000, timestamp_start: NOW - 7 * DAY_MS, timestamp_end: NOW }).expect(200);
      expect(explicit.body).to.deep.equal(res.body);
    });
  });

  describe('rows', () => {
    it('carry the upstream columns and the computed fields, exactly', async () => {
      const res = await post({ timestamp_start: T0, timestamp_end: T0 }).expect(200);
      const expected = HAND_JOBS.map(({ job, computed }, i) => ({
        event_id: HAND_RUN.event_id,
        job_ref: HAND_RUN.job_ref,
        tenant_id: HAND_RUN.tenant_id,
        source_app: HAND_RUN.source_app,
        source_app_version: HAND_RUN.source_app_version,
        environment: HAND_RUN.environment,
        run_timestamp_start: HAND_RUN.timestamp_start,
        run_timestamp_end: HAND_RUN.timestamp_end,
        internal_id: handIds[i],
        ...job,
        run_date: '03-08-2026',
        formatted_tenant: 'tenant-handmade',
        ...computed,
      })).reverse();
      expect(res.body).to.deep.equal({
        success: true,
        statusCode: 200,
        pagination: { cursor: null, has_more: false, limit: 50 },
        data: expected,
      });
    });
  });

  describe('a constrained user', () => {
    it('sees only the rows whose tenant and environment match her patterns, all of them', async () => {
      const start = NOW - 30 * DAY_MS;
      const res = await post({ timestamp_start: start, timestamp_end: NOW, limit: 1000 }, 'carol').expect(200);
      const rows = res.body.data as Row[];
      expect(res.body.pagination.has_more).to.equal(false);
      expect(rows.length).to.be.greaterThan(0);
      for (const row of rows) {
        expect(row.tenant_id).to.match(/^(?:tenant-0[0-4])$/);
        expect(row.environment).to.equal('prod');
      }
      expect(rows.map((r) => r.internal_id)).to.deep.equal(await idsInWindow(start, NOW, true));
    });

    it('sees nothing of the hand-made tenant outside her patterns', async () => {
      const res = await post({ timestamp_start: T0, timestamp_end: T0 }, 'carol').expect(200);
      expect(res.body.data).to.deep.equal([]);
    });
  });
});
