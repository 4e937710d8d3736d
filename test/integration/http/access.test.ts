/**
 * Access, route by route (issue 14, item 7). A constrained user never sees a group, a count or
 * metadata derived from rows outside her constraints: every compiled query is compared with the
 * oracle over exactly her rows (the real-time tail included, read after an unconstrained user warmed
 * the parts cache with the same request), and the raw endpoint with her row ids. A user absent from
 * a topic's ACL gets the same 403 whatever the route, query or body. Token attacks get 401.
 */
import { createHmac, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { KeyStore } from '../../../src/auth/keys.ts';
import { TABLES, type TopicName } from '../../../src/db/tables.ts';
import type { Executor } from '../../../src/db/executor.ts';
import { databaseCheck } from '../../../src/http/health.ts';
import { viewsCheck } from '../../../src/http/views-health.ts';
import { queriesOf } from '../../../src/declarations/index.ts';
import { expectSameRows, type Row } from '../../helpers/exact.ts';
import { NOW, seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { httpHarness, onlyError, RUNS_TOPIC, type HttpHarness } from '../../helpers/http.ts';
import { oracle, type OracleRequest } from '../../helpers/oracle.ts';
import { insertRun } from '../maintenance/writes.ts';

const STATUS_TOPIC = 'public.cps.za.status_change';
const HOUR_MS = 3_600_000;
/** Jobs written after the refresh (below): 5 in carol's scope, none in erin's. */
const LATE_JOBS = 5 + 7 + 11;

/** Patterns per field, as in access.json. */
type Scope = Readonly<Record<string, readonly string[]>>;
const CAROL: Scope = { tenant_id: ['tenant-0[0-4]'], environment: ['prod'] };
const ERIN: Scope = { environment: ['uat|dev'], source_app: ['.*[02468]'] };
const DAVE: Scope = { tenant_id: ['tenant-0[0-9]', 'Tenant-.*'] };

const ACCESS = {
  [RUNS_TOPIC]: { alice: {}, carol: CAROL, erin: ERIN },
  [STATUS_TOPIC]: { alice: {}, dave: DAVE },
  'public.cps.za.dlchange': ['alice', 'bob'],
  'public.cps.za.test': ['alice'],
};

/** A scope as a JS predicate over a row, with PostgreSQL's full-match reading. */
function inScope(scope: Scope, row: Row): boolean {
  return Object.entries(scope).every(([field, patterns]) => {
    const v = row[field];
    return typeof v === 'string' && patterns.some((p) => new RegExp(`^(?:${p})$`, 'su').test(v));
  });
}

/** The requests per compiled query: every body shape worth checking (ranked ones with a small limit too). */
const BODIES: Readonly<Record<string, readonly Row[]>> = {
  failed_jobs: [
    { days: 30, limit: 1000 },
    { days: 30, group_by: ['environment', 'country'], limit: 1000 },
    { days: 30, group_by: ['catalog_id'], limit: 3 },
    { days: 30, group_by: ['tenant_id'], tenant_id: ['tenant-01', 'tenant-03'], limit: 1000 },
  ],
  failed_jobs_by_country: [
    { days: 30, limit: 1000 },
    { days: 30, group_by: ['tenant_id', 'country'], limit: 2 },
  ],
  aggregation_by_catalog: [{ days: 30, limit: 1000 }, { days: 7, limit: 2 }],
  job_status_trend: [
    { days: 30, bucket: 'day' },
    { days: 2, bucket: 'hour' },
  ],
  run_status_summary: [
    { days: 30, limit: 1000 },
    { days: 30, group_by: ['tenant_id'], limit: 1000 },
    { days: 30, group_by: ['source_app', 'environment'], limit: 3 },
  ],
};

const RANKED = new Set(['failed_jobs', 'failed_jobs_by_country', 'aggregation_by_catalog']);

describe('access on every route', function () {
  this.timeout(180_000);
  let s: SeededDatabase;
  let h: HttpHarness;

  const post = (path: string, body: object, user: string) => request(h.app).post(path).set('Authorization', h.bearer(user)).send(body);

  before(async () => {
    s = await seededDatabase({ runs: 2_000, days: 30 });
    // Written after the refresh, so real-time answers read them from the tail: inside carol's scope,
    // and outside it by tenant and by environment.
    for (const run of [
      { ts: NOW - 2 * HOUR_MS, tenant: 'tenant-01', env: 'prod', jobs: 5 },
      { ts: NOW - 3 * HOUR_MS, tenant: 'tenant-09', env: 'prod', jobs: 7 },
      { ts: NOW - 4 * HOUR_MS, tenant: 'tenant-02', env: 'uat', jobs: 11 },
    ]) {
      await insertRun(s.db.pool, run);
    }
    h = await httpHarness(s.executor, {
      access: ACCESS,
      health: { database: databaseCheck(s.executor), views: viewsCheck(s.executor, { refresh: { statementTimeoutMs: 1, lockTimeoutMs: 1, schedules: {}, stopTimeoutMs: 1, longWriterMs: 1 } }, () => NOW) },
    });
  });
  after(async () => {
    await h?.close();
    await s?.close();
  });

  describe('a constrained user sees only what her rows make', () => {
    /** The requests whose answer had a real-time tail: at least one per user of the runs topic must. */
    const tails: string[] = [];
    after(() => {
      expect(tails.some((t) => t.startsWith('carol ') && t.endsWith(': 5')), tails.join('; ')).to.equal(true);
      expect(tails.some((t) => t.startsWith('erin ')), tails.join('; ')).to.equal(true);
    });

    const cases: { user: string; topic: TopicName; scope: Scope }[] = [
      { user: 'carol', topic: RUNS_TOPIC, scope: CAROL },
      { user: 'erin', topic: RUNS_TOPIC, scope: ERIN },
      { user: 'dave', topic: STATUS_TOPIC, scope: DAVE },
    ];
    for (const { user, topic, scope } of cases) {
      for (const query of queriesOf(topic)) {
        it(`${query.name}: ${user}'s groups, counts and meta equal the oracle over her rows, after alice warmed the cache`, async () => {
          const bodies = BODIES[query.name];
          expect(bodies, `add request shapes for ${query.name} to BODIES`).to.not.equal(undefined);
          for (const body of bodies!) {
            const path = `/stats/${topic}/query/${query.name}`;
            const all = (await post(path, body, 'alice').expect(200)).body;
            const mine = (await post(path, body, user).expect(200)).body;
            const context = { user, query: query.name, body };
            expect(mine.params, JSON.stringify(context)).to.deep.equal(all.params);
            const p = mine.params as Row & { timestamp_start: number; timestamp_end: number; limit?: number; group_by?: string[]; bucket?: 'hour' | 'day' };
            const filters = Object.fromEntries(query.filters.filter((f) => p[f] !== undefined).map((f) => [f, p[f] as string[]]));
            const req: OracleRequest = { group_by: p.group_by ?? (query.name === 'aggregation_by_catalog' ? undefined : []), bucket: p.bucket, filters, scope };
            const window = { start: p.timestamp_start, end: p.timestamp_end };
            const limit = p.limit ?? 0;
            const run = async (extra: OracleRequest) => {
              const o = oracle(query.name, window, { ...req, ...extra });
              return (await s.db.pool.query(o.text, o.values as unknown[])).rows as Row[];
            };
            // One more than the limit: whether groups were cut must be hers too.
            const expected = await run({ limit: limit + 1 });
            const groupsOf = (rows: Row[]) => new Set(rows.map((r) => JSON.stringify((p.group_by ?? []).map((k) => r[k])))).size;
            const truncated = RANKED.has(query.name) ? expected.length > limit : query.name === 'run_status_summary' ? groupsOf(expected) > limit : false;
            const shown = RANKED.has(query.name) ? expected.slice(0, limit) : query.name === 'run_status_summary' ? await run({ limit }) : expected;
            expectSameRows(mine.data as Row[], shown, context);
            expect(mine.meta.truncated, JSON.stringify(context)).to.equal(truncated);
            expect(mine.meta.row_count).to.equal(mine.data.length);
            // Never someone else's groups: every scoped key she is shown matches her patterns.
            for (const row of mine.data as Row[]) {
              const keys = Object.fromEntries(Object.keys(scope).filter((k) => k in row).map((k) => [k, row[k]]));
              expect(inScope(Object.fromEntries(Object.keys(keys).map((k) => [k, scope[k]!])), keys), JSON.stringify({ ...context, row })).to.equal(true);
            }
            // The tail she is told about holds the unabsorbed jobs in her scope only (or none: a read
            // that takes every row from the base tables has no tail, as for alice).
            if (mine.meta.realtime && Object.keys(filters).length === 0) {
              const lateInScope = { carol: 5, erin: 0 }[user as 'carol' | 'erin'];
              expect(all.meta.tail_rows, 'alice is told of every late job, or of no tail').to.be.oneOf([0, LATE_JOBS]);
              expect(mine.meta.tail_rows, JSON.stringify(context)).to.be.oneOf([0, lateInScope]);
              if (all.meta.tail_rows === LATE_JOBS) tails.push(`${user} ${query.name}: ${mine.meta.tail_rows}`);
            }
            // Metadata about the view itself is the same for every user (staleness_ms is about the
            // delivery: alice's poll may be answered from the process, hers read).
            for (const key of ['view', 'refreshed_at', 'source_checked_at', 'realtime']) expect(mine.meta[key]).to.deep.equal(all.meta[key]);
          }
        });
      }
    }

    it('the constrained answers are not vacuous: they hold rows, and fewer than alice sees', async () => {
      const path = `/stats/${RUNS_TOPIC}/query/failed_jobs`;
      const total = async (user: string) => ((await post(path, { days: 30, limit: 1000 }, user).expect(200)).body.data as Row[]).reduce((n, r) => n + (r.job_count as number), 0);
      const [alice, carol, erin] = [await total('alice'), await total('carol'), await total('erin')];
      expect(carol).to.be.greaterThan(0);
      expect(erin).to.be.greaterThan(0);
      expect(carol + erin).to.be.lessThan(alice);
    });

    it('POST /stats/{topic}: every page holds her rows only, and together exactly her rows of the window', async () => {
      const start = NOW - 30 * 24 * HOUR_MS;
      const { rows } = await s.db.pool.query<{ internal_id: number }>(
        `SELECT j.internal_id FROM ${TABLES.runsJobs} j JOIN ${TABLES.runs} r ON r.event_id = j.event_id
          WHERE r.timestamp_start BETWEEN $1 AND $2 AND r.tenant_id ~ ANY($3) AND r.environment ~ ANY($4) ORDER BY j.internal_id DESC`,
        [start, NOW, CAROL.tenant_id!.map((x) => `^(?:${x})$`), CAROL.environment!.map((x) => `^(?:${x})$`)],
      );
      const seen: number[] = [];
      let cursor: number | null = null;
      do {
        const res: request.Response = await post(`/stats/${RUNS_TOPIC}`, { timestamp_start: start, timestamp_end: NOW, limit: 100, ...(cursor === null ? {} : { cursor }) }, 'carol').expect(200);
        for (const row of res.body.data as Row[]) expect(inScope(CAROL, row), JSON.stringify(row)).to.equal(true);
        seen.push(...(res.body.data as Row[]).map((r) => r.internal_id as number));
        cursor = res.body.pagination.has_more ? res.body.pagination.cursor : null;
      } while (cursor !== null);
      expect(seen).to.deep.equal(rows.map((r) => r.internal_id));
      expect(seen.length).to.be.greaterThan(100);
    });

    it('GET /stats/{topic}/queries: the same catalog as alice gets, nothing derived from rows', async () => {
      const alice = await request(h.app).get(`/stats/${RUNS_TOPIC}/queries`).set('Authorization', h.bearer('alice')).expect(200);
      const carol = await request(h.app).get(`/stats/${RUNS_TOPIC}/queries`).set('Authorization', h.bearer('carol')).expect(200);
      expect(carol.body).to.deep.equal(alice.body);
    });

    it('errors: a filter outside her patterns says only that, alike for a tenant with rows and one without', async () => {
      const path = `/stats/${RUNS_TOPIC}/query/failed_jobs`;
      const withRows = await post(path, { tenant_id: 'tenant-09' }, 'carol').expect(403);
      const without = await post(path, { tenant_id: 'tenant-99' }, 'carol').expect(403);
      expect(onlyError(withRows.body)).to.deep.equal({ type: 'permission', message: "filter 'tenant_id' asks for 'tenant-09', which is outside your access constraints" });
      expect(onlyError(without.body).message).to.equal(onlyError(withRows.body).message.replace('tenant-09', 'tenant-99'));
    });

    it('errors: a bad request reads the same for her as for alice, on every query and the raw endpoint', async () => {
      const bad: Row[] = [{ group_by: ['nope'] }, { limit: 0 }, { days: 0 }, { timestamp_start: NOW, timestamp_end: NOW - 1 }, { nope: 1 }, { tenant_id: 7 }];
      let errors = 0;
      for (const [topic, user] of [[RUNS_TOPIC, 'carol'], [STATUS_TOPIC, 'dave']] as const) {
        for (const path of [...queriesOf(topic).map((q) => `/stats/${topic}/query/${q.name}`), `/stats/${topic}/query/nope`, `/stats/${topic}`]) {
          for (const body of bad) {
            const alice = await post(path, body, 'alice');
            const mine = await post(path, body, user);
            // The raw endpoint ignores unknown keys (the upstream contract): only errors are compared.
            if (alice.status === 200) continue;
            errors += 1;
            expect(alice.status, `${path} ${JSON.stringify(body)}`).to.be.within(400, 499);
            expect({ status: mine.status, body: mine.body }, `${path} ${JSON.stringify(body)}`).to.deep.equal({ status: alice.status, body: alice.body });
          }
        }
      }
      expect(errors).to.be.greaterThan(40);
    });
  });

  describe('a user absent from the topic ACL', () => {
    const denied = (topic: string) => ({ success: false, statusCode: 403, errors: [{ type: 'auth', message: `user 'bob' is not allowed to read topic '${topic}'` }] });

    it('gets the same 403 on every route of the topic, whatever the query, the body or its validity', async () => {
      for (const topic of [RUNS_TOPIC, STATUS_TOPIC] as const) {
        const requests = [
          request(h.app).get(`/stats/${topic}/queries`),
          request(h.app).post(`/stats/${topic}`).send({}),
          request(h.app).post(`/stats/${topic}`).send({ limit: 'x', nope: 1 }),
          request(h.app).post(`/stats/${topic}/query/nope`).send({}),
          request(h.app).get(`/stats/${topic}/anything/else`),
          ...queriesOf(topic).flatMap((q) => [
            request(h.app).post(`/stats/${topic}/query/${q.name}`).send({ days: 30 }),
            request(h.app).post(`/stats/${topic}/query/${q.name}`).send({ tenant_id: 'tenant-01', group_by: ['bad'] }),
          ]),
        ];
        for (const r of requests) {
          const res = await r.set('Authorization', h.bearer('bob'));
          expect(res.status).to.equal(403);
          expect(res.body).to.deep.equal(denied(topic));
        }
      }
    });

    it('gets the same 403 on a topic with rows as on one without (public.cps.za.test holds none here)', async () => {
      const { rows } = await s.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${TABLES.runs}`);
      expect(rows[0]!.n).to.be.greaterThan(0);
      for (const [topic, user] of [[RUNS_TOPIC, 'bob'], ['public.cps.za.test', 'bob']] as const) {
        const res = await post(`/stats/${topic}/query/failed_jobs`, {}, user).expect(403);
        expect(res.body).to.deep.equal(denied(topic));
      }
    });

    it('gets 404 "topic" for a topic that does not exist: topic names are public (GET /api lists every one)', async () => {
      const res = await post('/stats/public.cps.za.nope/query/failed_jobs', {}, 'bob').expect(404);
      expect(onlyError(res.body)).to.deep.equal({ type: 'topic', message: "topic 'public.cps.za.nope' not found" });
      const api = await request(h.app).get('/api').expect(200);
      for (const topic of Object.keys(ACCESS)) expect(JSON.stringify(api.body)).to.include(topic);
    });
  });

  describe('routes outside the topics', () => {
    it('GET /api and GET /health answer the same to anyone, and /health holds statuses only', async () => {
      // A refresh failure whose text quotes a source value (as a cast error would).
      await s.db.pool.query(
        `INSERT INTO ${TABLES.refreshLog} (view_name, started_at, finished_at, duration_ms, outcome, error)
         VALUES ('eventstats.mv_job_facts', now(), now(), 1, 'failed', 'invalid input syntax for type bigint: "tenant-09 secret-value"')`,
      );
      const anonymous = await request(h.app).get('/health');
      const withToken = await request(h.app).get('/health').set('Authorization', h.bearer('carol'));
      expect(withToken.body).to.deep.equal(anonymous.body);
      expect(anonymous.body.checks.views['eventstats.mv_job_facts'].last_outcome).to.equal('failed');
      expect(JSON.stringify(anonymous.body)).not.to.match(/secret-value|tenant-|invalid input/);
      const api = await request(h.app).get('/api').expect(200);
      expect((await request(h.app).get('/api').set('Authorization', h.bearer('carol'))).body).to.deep.equal(api.body);
    });

    it('GET /health does not show the database’s words when the refresh log cannot be read', async () => {
      const failing: Executor = { query: async () => Promise.reject(new Error('password authentication failed for user "eventstats_secret_role"')) } as unknown as Executor;
      const check = viewsCheck(failing, { refresh: { statementTimeoutMs: 1, lockTimeoutMs: 1, schedules: {}, stopTimeoutMs: 1, longWriterMs: 1 } });
      expect(await check()).to.deep.equal({ ok: false, detail: 'unavailable' });
    });

    it('answers 404 "route" without a token outside /stats, and 401 for anything under /stats without one', async () => {
      const res = await request(h.app).get('/nope').expect(404);
      expect(onlyError(res.body)).to.deep.equal({ type: 'route', message: 'no route GET /nope' });
      for (const path of [`/stats/${RUNS_TOPIC}`, `/stats/${RUNS_TOPIC}/query/failed_jobs`, '/stats/public.cps.za.nope/query/x']) {
        const r = await request(h.app).post(path).send({}).expect(401);
        expect(onlyError(r.body)).to.deep.equal({ type: 'auth', message: 'missing bearer token' });
      }
    });

    it('answers 404 "route" to a listed user on an unknown route under the topic', async () => {
      const res = await request(h.app).get(`/stats/${RUNS_TOPIC}/nope`).set('Authorization', h.bearer('carol')).expect(404);
      expect(onlyError(res.body)).to.deep.equal({ type: 'route', message: `no route GET /stats/${RUNS_TOPIC}/nope` });
    });
  });

  describe('token attacks answer 401 and reach no data', () => {
    const FAILED_JOBS = `/stats/${RUNS_TOPIC}/query/failed_jobs`;
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const seconds = () => Math.floor(Date.now() / 1000);
    const craft = (header: object, payload: object, sign: (input: string) => string) => {
      const input = `${b64(header)}.${b64(payload)}`;
      return `${input}.${sign(input)}`;
    };

    async function refused(token: string, message: string | RegExp): Promise<void> {
      for (const path of [FAILED_JOBS, `/stats/${RUNS_TOPIC}`]) {
        const res = await request(h.app).post(path).set('Authorization', `Bearer ${token}`).send({ days: 30 }).expect(401);
        const error = onlyError(res.body);
        expect(error.type).to.equal('auth');
        if (typeof message === 'string') expect(error.message).to.equal(message);
        else expect(error.message).to.match(message);
        expect(JSON.stringify(res.body)).not.to.include(token);
        expect(res.body).not.to.have.property('data');
      }
    }

    it('alg none, and HS256 signed with the public key (PEM or DER) as the secret', async () => {
      const publicKey = createPublicKey(h.privateKeyPem);
      const claims = { sub: 'alice', exp: seconds() + 600 };
      await refused(craft({ alg: 'none', typ: 'JWT' }, claims, () => ''), 'token must be signed with RS256');
      await refused(`${b64({ alg: 'none' })}.${b64(claims)}.`, 'token must be signed with RS256');
      for (const secret of [publicKey.export({ type: 'spki', format: 'pem' }), publicKey.export({ type: 'spki', format: 'der' })]) {
        await refused(craft({ alg: 'HS256', typ: 'JWT' }, claims, (input) => createHmac('sha256', secret).update(input).digest('base64url')), 'token must be signed with RS256');
      }
    });

    it('expired, not yet valid, signed by a foreign key, or garbage', async () => {
      const rs = (payload: object, key: string | KeyObject = h.privateKeyPem) => jwt.sign(payload, key, { algorithm: 'RS256' });
      await refused(rs({ sub: 'alice', exp: seconds() - 1 }), 'token expired');
      await refused(rs({ sub: 'alice', nbf: seconds() + 600 }), 'token not yet valid (nbf)');
      await refused(rs({ sub: 'alice' }, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey), 'invalid token signature');
      for (const garbage of ['garbage', 'a.b.c', '...', `${b64({ alg: 'RS256' })}.not-json.x`, 'x'.repeat(5000)]) await refused(garbage, /^(malformed token|invalid token)/);
    });

    it('the optional claim checks, when configured, refuse through the app in the envelope, naming the rule', async () => {
      const strict = await httpHarness(s.executor, { access: ACCESS, tokenRules: { audience: ['eventstats'], issuer: ['https://gateway.example'], requireExp: true } });
      try {
        const sign = (claims: object) => jwt.sign({ sub: 'carol', ...claims }, h.privateKeyPem, { algorithm: 'RS256' });
        const good = { aud: 'eventstats', iss: 'https://gateway.example', exp: seconds() + 600 };
        const send = (claims: object) => request(strict.app).post(FAILED_JOBS).set('Authorization', `Bearer ${sign(claims)}`).send({ days: 30 });
        expect((await send(good).expect(200)).body.data).to.be.an('array');
        for (const [claims, message] of [
          [{ ...good, aud: 'other' }, 'token audience (aud) is not accepted'],
          [{ ...good, iss: 'https://elsewhere.example' }, 'token issuer (iss) is not accepted'],
          [{ aud: good.aud, iss: good.iss }, 'token has no expiry: this server requires an exp claim'],
        ] as const) {
          const res = await send(claims).expect(401);
          expect(res.body).to.deep.equal({ success: false, statusCode: 401, errors: [{ type: 'auth', message }] });
        }
      } finally {
        await strict.close();
      }
    });

    it('a storm of unknown kids makes at most one key re-fetch per interval, and alg-none tokens none', async () => {
      const jwk = { ...createPublicKey(h.privateKeyPem).export({ format: 'jwk' }), kid: 'k1' };
      let reads = 0;
      const clock = { t: Date.now() };
      const keys = new KeyStore({ source: 'counting', now: () => clock.t, read: async () => ((reads += 1), { keys: [jwk] }) });
      const storm = await httpHarness(s.executor, { access: ACCESS, keys });
      try {
        const sign = (kid: string, key: string | KeyObject = h.privateKeyPem) => jwt.sign({ sub: 'carol', exp: seconds() + 600 }, key, { algorithm: 'RS256', keyid: kid });
        await request(storm.app).post(FAILED_JOBS).set('Authorization', `Bearer ${sign('k1')}`).send({ days: 30 }).expect(200);
        expect(reads).to.equal(1);
        clock.t += 10_000; // past the floor after that first load: the next unknown kid may re-fetch, once
        const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
        for (let i = 0; i < 60; i += 1) {
          const kid = randomUUID();
          // Signed by the real key under a made-up kid (still tried against every key), or by a foreign one.
          const token = i % 2 === 0 ? sign(kid) : sign(kid, foreign);
          await request(storm.app).post(FAILED_JOBS).set('Authorization', `Bearer ${token}`).send({ days: 30 }).expect(i % 2 === 0 ? 200 : 401);
          await request(storm.app).post(FAILED_JOBS).set('Authorization', `Bearer ${craft({ alg: 'none', kid }, { sub: 'alice' }, () => '')}`).send({}).expect(401);
        }
        expect(reads, 'one re-fetch for the first unknown kid of 60, then none within the interval').to.equal(2);
        clock.t += 10_000;
        await request(storm.app).post(FAILED_JOBS).set('Authorization', `Bearer ${sign(randomUUID(), foreign)}`).send({}).expect(401);
        expect(reads).to.equal(3);
      } finally {
        await storm.close();
      }
    });
  });
});
