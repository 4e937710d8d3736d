/**
 * Real-time answers (src/read/tail.ts): between two refreshes a query over the runs topic counts
 * every committed row, late ones, jobs committed after their run and jobs whose run came since
 * included, equal to the oracle over the base tables; the same reads as of the refresh do not. A
 * cycle that commits between a read's cached parts and its tail does not make it count twice or
 * lose rows.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import pg from 'pg';
import { createExecutor, type Executor } from '../../../src/db/executor.ts';
import type { SqlQuery } from '../../../src/db/sql.ts';
import { TABLES } from '../../../src/db/tables.ts';
import { prepareQuery } from '../../../src/read/execute.ts';
import { findQuery, registeredViews } from '../../../src/declarations/index.ts';
import { PartsCache } from '../../../src/read/parts-cache.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../../src/rollup/window.ts';
import { refreshViews } from '../../../src/refresh/refresh-view.ts';
import { seed } from '../../../src/seed/index.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { compareAll, expectAllExact, expectSameRows, type Window } from '../../helpers/exact.ts';
import { REFRESH_OPTIONS } from '../../helpers/fixtures.ts';
import { oracle } from '../../helpers/oracle.ts';
import { insertJobs, insertRun } from '../maintenance/writes.ts';
import { propertyOptions } from '../../helpers/property.ts';

const RUNS = 'public.cps.za.runs';
const windowsAt = (now: number): Window[] => [
  { timestamp_start: now - 25 * DAY_MS, timestamp_end: now },
  { timestamp_start: now - 3 * HOUR_MS - 12_345, timestamp_end: now },
  { timestamp_start: now - 6 * DAY_MS - 17 * 60_000, timestamp_end: now - 2 * DAY_MS + 5_000 },
];

describe('real-time answers', function () {
  this.timeout(180_000);
  let db: TestDatabase;

  const refreshAll = async () => {
    for (const r of await refreshViews(db.pool, registeredViews(), REFRESH_OPTIONS)) expect(r.outcome, `${r.view}: ${r.error ?? ''}`).to.be.oneOf(['refreshed', 'skipped']);
  };

  before(async () => {
    db = await createTestDatabase();
    await seed(db.pool, { runs: 500, days: 20, end: Date.now(), seed: 17 });
    await refreshAll();
  });
  after(async () => db?.drop());

  it('count rows written since the last refresh, late ones, jobs after their run and jobs whose run came since; as of the refresh they do not', async () => {
    // A job whose run has not come yet: the cycle holds it back (an orphan).
    await insertJobs(db.pool, 'ev-realtime-orphan', Date.now() - 2 * DAY_MS, 4);
    await refreshAll();
    const now = Date.now();
    await insertRun(db.pool, { ts: now - 5 * MINUTE_MS, jobs: 5, tenant: 'tenant-01' });
    await insertRun(db.pool, { ts: now - 4 * DAY_MS - 1234, jobs: 3, tenant: 'late-tenant' });
    await insertRun(db.pool, { ts: now - 23 * DAY_MS, jobs: 2, env: 'uat' });
    // A run first, its jobs in a later transaction.
    const later = await insertRun(db.pool, { ts: now - 90 * MINUTE_MS, jobs: 0 });
    await insertJobs(db.pool, later, now - 90 * MINUTE_MS, 6);
    // The orphan's run arrives.
    await db.pool.query(
      `INSERT INTO ${TABLES.runs} (event_id, job_ref, tenant_id, source_app, source_app_version, environment, timestamp_start, timestamp_end)
       VALUES ('ev-realtime-orphan', 'ref', 'tenant-02', 'app-late', '1', 'prod', $1::bigint, $1::bigint + 1000)`,
      [now - 2 * DAY_MS],
    );
    // An uncommitted transaction is not counted.
    const open = await db.pool.connect();
    try {
      await open.query('BEGIN');
      await insertRun(open, { ts: now - 10 * MINUTE_MS, jobs: 7 });

      const live = await compareAll(db.pool, windowsAt(Date.now()), Date.now(), { realtime: true, topic: RUNS });
      for (const c of live) expectSameRows(c.actual, c.expected, c.context);
      for (const c of live) {
        expect(c.meta.realtime, JSON.stringify(c.context)).to.equal(true);
        expect(c.meta.staleness_ms).to.equal(0);
      }
      expect(Math.max(...live.map((c) => c.meta.tail_rows as number)), 'the tail added the new jobs').to.equal(5 + 3 + 2 + 6 + 4);

      // As of the refresh, the same reads miss them: this test can fail.
      const asOfRefresh = await compareAll(db.pool, windowsAt(Date.now()), Date.now(), { topic: RUNS });
      expect(asOfRefresh.filter((c) => JSON.stringify(c.actual) !== JSON.stringify(c.expected))).to.have.length.greaterThan(0);
      for (const c of asOfRefresh) expect(c.meta.realtime).to.equal(false);
      await open.query('ROLLBACK');
    } finally {
      open.release();
    }

    // A refresh absorbs the tail: both agree again.
    await refreshAll();
    await expectAllExact(db.pool, windowsAt(Date.now()), Date.now(), { realtime: true });
    await expectAllExact(db.pool, windowsAt(Date.now()), Date.now());
  });

  it('answer the status topic as of the last refresh (its upserts cannot be subtracted)', async () => {
    const q = findQuery('public.cps.za.status_change', 'run_status_summary')!;
    const answer = await prepareQuery(q, { days: 7 }, { kind: 'all' }, Date.now()).run(createExecutor(db.pool, 1), new PartsCache(), true);
    expect(answer.meta.realtime).to.equal(false);
    expect(answer.meta.tail_rows).to.equal(null);
  });

  it('read again from one snapshot when a cycle commits between the parts a process cached and the tail', async () => {
    // The process trusts the version it read for a minute: its cached parts stay those of the old version.
    const cache = new PartsCache({ stateTtlMs: 60_000 });
    let statements = 0;
    const base = createExecutor(db.pool, 1);
    const counting: Executor = {
      query<R extends object>(q: SqlQuery) {
        // The stable-id probe runs on its own schedule (src/read/stable-ids.ts): not counted.
        if (q.name !== 'eventstats_stable_ids') statements++;
        return base.query<R>(q);
      },
    };
    const q = findQuery(RUNS, 'failed_jobs')!;
    const body = { timestamp_start: Date.now() - 10 * DAY_MS, timestamp_end: Date.now(), group_by: ['tenant_id'], limit: 1000 };
    const expected = async () => {
      const o = oracle('failed_jobs', { start: body.timestamp_start, end: body.timestamp_end }, { group_by: ['tenant_id'], limit: 1000 });
      return (await db.pool.query(o.text, o.values as unknown[])).rows;
    };
    const read = () => prepareQuery(q, body, { kind: 'all' }, body.timestamp_end).run(counting, cache, true);

    await insertRun(db.pool, { ts: Date.now() - 3 * DAY_MS, jobs: 4, tenant: 'tenant-03' });
    expectSameRows((await read()).data, await expected(), 'cold');
    // The cycle absorbs that run into history; then more rows arrive.
    await refreshAll();
    await insertRun(db.pool, { ts: Date.now() - 5 * DAY_MS, jobs: 3, tenant: 'tenant-03' });
    statements = 0;
    const warm = await read();
    expectSameRows(warm.data, await expected(), 'after a cycle, with parts of the version before it');
    // The tail's statement saw a newer version than the cached parts: one more statement read it all.
    expect(statements, 'statements (the version is trusted, the window cached)').to.equal(2);
    expect(warm.meta.tail_rows).to.equal(3);
  });

  it('read with no more than the reader role grants', async () => {
    const role = `es_reader_${process.pid}`;
    await db.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD 'reader' IN ROLE eventstats_reader`);
    const url = new URL(db.url);
    url.username = role;
    url.password = 'reader';
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    try {
      const cache = new PartsCache({ stateTtlMs: 0, probeIntervalMs: 0 });
      await insertRun(db.pool, { ts: Date.now() - 20 * MINUTE_MS, jobs: 2 });
      for (let i = 0; i < 3; i++) await expectAllExact(pool, windowsAt(Date.now()), Date.now(), { realtime: true, cache, topic: RUNS });
      expect(await cache.stableIds.current(createExecutor(pool, 1)), 'the stable-id probe ran as the reader').to.be.greaterThan(0);
    } finally {
      await pool.end();
      await db.pool.query(`DROP ROLE ${role}`);
    }
  });

  describe('the tail cached up to the stable id', () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const q = findQuery(RUNS, 'failed_jobs')!;
    const bodyAt = (now: number) => ({ timestamp_start: now - 10 * DAY_MS, timestamp_end: now + HOUR_MS, group_by: ['tenant_id', 'environment'], limit: 1000 });
    /** `moving`: sent as a window ending at the request's now (no timestamp_end, now its end), as a `days` window is. */
    const expectExact = async (executor: Executor, cache: PartsCache, body: ReturnType<typeof bodyAt>, context: string, moving = false) => {
      const { timestamp_end: end, ...open } = body;
      const answer = await prepareQuery(q, moving ? open : body, { kind: 'all' }, end).run(executor, cache, true);
      expect(answer.params.timestamp_end, context).to.equal(end);
      const o = oracle('failed_jobs', { start: body.timestamp_start, end: body.timestamp_end }, { group_by: ['tenant_id', 'environment'], limit: 1000 });
      expectSameRows(answer.data, (await db.pool.query(o.text, o.values as unknown[])).rows, context);
      return answer;
    };
    /** An executor on the test database that records every statement it runs, by name (the parts statement has none, or its shape's: es_...). */
    const recordingExecutor = () => {
      const real = createExecutor(db.pool, 1);
      const ran: string[] = [];
      const executor: Executor = { query: (sql) => (ran.push(sql.name === undefined || sql.name.startsWith('es_') ? 'parts' : sql.name), real.query(sql)) };
      return { executor, ran };
    };
    /** Reads until the process has probed twice since `from` (the stable id can only have moved by then). */
    const readAcrossProbes = async (executor: Executor, cache: PartsCache, body: ReturnType<typeof bodyAt>, context: string) => {
      for (let i = 0; i < 3; i++) {
        await expectExact(executor, cache, body, `${context}, read ${i}`);
        await sleep(250);
      }
    };

    it('stays exact as writes go on: stable jobs are read once, a stable job whose run comes later is probed until it does', async () => {
      await refreshAll();
      const cache = new PartsCache({ stateTtlMs: 600_000 });
      const tails: { stableTo: number; pending: readonly number[]; rows: number }[] = [];
      const setTail = cache.setTail.bind(cache);
      cache.setTail = (key, tail) => (tails.push(tail), setTail(key, tail));
      const executor = createExecutor(db.pool, 1);
      const body = bodyAt(Date.now());
      await insertRun(db.pool, { ts: Date.now() - 30 * MINUTE_MS, jobs: 4, tenant: 'tenant-04' });
      await readAcrossProbes(executor, cache, body, 'first writes');
      // A job whose run comes later, and more writes.
      await insertJobs(db.pool, 'ev-realtime-pending', Date.now() - 2 * HOUR_MS, 3);
      await insertRun(db.pool, { ts: Date.now() - 2 * DAY_MS, jobs: 2, tenant: 'tenant-04' });
      await readAcrossProbes(executor, cache, body, 'a job without its run');
      const withPending = tails.at(-1)!;
      expect(withPending.stableTo, 'the stable id moved past the writes').to.be.greaterThan(0);
      expect(withPending.pending, 'the jobs without a run, remembered').to.have.length(3);
      await db.pool.query(
        `INSERT INTO ${TABLES.runs} (event_id, job_ref, tenant_id, source_app, source_app_version, environment, timestamp_start, timestamp_end)
         VALUES ('ev-realtime-pending', 'ref', 'tenant-05', 'app-late', '1', 'uat', $1::bigint, $1::bigint + 1000)`,
        [Date.now() - 2 * HOUR_MS],
      );
      await readAcrossProbes(executor, cache, body, 'the run came');
      const last = tails.at(-1)!;
      expect(last.pending).to.deep.equal([]);
      expect(last.rows, 'every stable fact held: 4 + 2 + 3').to.equal(9);
    });

    it('answers a poll of the same window without a statement while nothing is written, and counts a commit made between two polls', async () => {
      await refreshAll();
      const probeIntervalMs = 50;
      const cache = new PartsCache({ stateTtlMs: 600_000, probeIntervalMs });
      const { executor, ran } = recordingExecutor();
      const body = bodyAt(Date.now());
      const poll = async (context: string) => {
        await sleep(probeIntervalMs + 10); // past the interval: each poll probes first
        ran.length = 0;
        return expectExact(executor, cache, body, context);
      };
      // Two probes confirm the stable id; the next read caches its answer; the one after needs only the probe.
      let quiet: Awaited<ReturnType<typeof expectExact>> | undefined;
      for (let i = 0; i < 20 && !quiet; i++) {
        const answer = await poll(`poll ${i}`);
        if (ran.length > 0 && ran.every((name) => name === 'eventstats_stable_ids')) quiet = answer;
      }
      expect(quiet, 'a poll answered with no statement but the stable-id probe').to.not.equal(undefined);
      expect(quiet!.meta.realtime).to.equal(true);
      expect(quiet!.meta.staleness_ms).to.be.a('number').and.at.least(0);
      const again = await poll('a poll with nothing written');
      expect(ran, 'still only the probe').to.deep.equal(['eventstats_stable_ids']);
      expect(again.meta.tail_rows).to.equal(quiet!.meta.tail_rows);

      await insertRun(db.pool, { ts: Date.now() - 15 * MINUTE_MS, jobs: 3, tenant: 'tenant-07' });
      const after = await poll('the poll after a commit');
      expect(ran, 'the probe found the new id, and the tail was read').to.include('parts');
      expect(after.meta.tail_rows, 'the committed jobs counted').to.equal((quiet!.meta.tail_rows as number) + 3);
      expect(after.meta.staleness_ms).to.equal(0);
    });

    it('answers a window that moves on every read (ending now, as days) from the edge buckets while nothing is written, and counts a commit in an edge at the next read', async () => {
      await refreshAll();
      const probeIntervalMs = 50;
      const cache = new PartsCache({ stateTtlMs: 600_000, probeIntervalMs });
      const { executor, ran } = recordingExecutor();
      // Every read a second later than the last, within one hour: its whole hours (the level's finest
      // grain beyond the recent tier) stay, its edges move within their hour buckets.
      const t0 = Math.floor(Date.now() / HOUR_MS) * HOUR_MS + 10 * MINUTE_MS + 123;
      const bodyOf = (k: number) => ({ timestamp_start: t0 - 9 * DAY_MS + k * 1000, timestamp_end: t0 + k * 1000, group_by: ['tenant_id', 'environment'], limit: 1000 });
      let k = 0;
      const move = async (context: string) => {
        await sleep(probeIntervalMs + 10); // past the interval: each read probes first
        ran.length = 0;
        return expectExact(executor, cache, bodyOf(++k), `${context} (k ${k})`, true);
      };
      let fromProcess = 0;
      for (let i = 0; i < 30 && fromProcess < 3; i++) {
        await move(`read ${i}`);
        if (ran.length > 0 && ran.every((name) => name === 'eventstats_stable_ids')) fromProcess++;
      }
      expect(fromProcess, 'moved windows answered with no statement but the probe').to.equal(3);
      expect(cache.stats().hits.edge, 'their edges from the buckets held').to.be.greaterThan(0);
      // Moved by a millisecond, its edges take the same rows: answered from its last read's answer,
      // which is replaced, not kept beside (concurrent dashboards would otherwise each keep a whole
      // answer per millisecond that nobody asks for again).
      const answersBefore = cache.stats().hits.answer;
      const end = bodyOf(k).timestamp_end;
      let bytes = 0;
      for (let i = 1; i <= 4; i++) {
        await sleep(probeIntervalMs + 10);
        ran.length = 0;
        const relative = await prepareQuery(q, { days: 9, group_by: ['tenant_id', 'environment'], limit: 1000 }, { kind: 'all' }, end + i).run(executor, cache, true);
        expect(relative.meta.realtime).to.equal(true);
        expect(ran, `a millisecond on (${i}): only the probe`).to.deep.equal(['eventstats_stable_ids']);
        if (i === 2) bytes = cache.stats().bytes;
      }
      expect(cache.stats().hits.answer - answersBefore, 'answered from the answer kept for the window').to.be.at.least(3);
      expect(cache.stats().bytes, 'one answer kept for the moving window, not one per millisecond').to.equal(bytes);
      // A commit whose facts fall in the next read's leading edge.
      await insertRun(db.pool, { ts: bodyOf(k + 1).timestamp_start + 500, jobs: 3, tenant: 'tenant-09' });
      const after = await move('the read after a commit in its edge');
      expect(ran, 'the probe found the new id: the edge was read').to.include('parts');
      expect(after.meta.staleness_ms).to.equal(0);
      for (let i = 0; i < 4; i++) await move(`moving on after the commit, read ${i}`);
    });

    it('is exact for windows that move while nothing is in flight (their edges from the edge buckets held): random shapes of every real-time query', async () => {
      await refreshAll();
      // Probed on every read: once two probes found nothing in flight, a window read again a few
      // seconds later takes its edges from the buckets its first read held (src/read/edges.ts).
      const cache = new PartsCache({ stateTtlMs: 600_000, probeIntervalMs: 0 });
      const executor = createExecutor(db.pool, 1);
      const now = Date.now();
      const dims = ['tenant_id', 'source_app', 'environment', 'country'] as const;
      const names = ['failed_jobs', 'failed_jobs_by_country', 'aggregation_by_catalog', 'job_status_trend'] as const;
      const { rows: found } = await db.pool.query<{ d: string; v: string }>(
        `SELECT DISTINCT d, v FROM ${TABLES.runs} r JOIN ${TABLES.runsJobs} j USING (event_id),
                LATERAL (VALUES ('tenant_id', r.tenant_id), ('source_app', r.source_app), ('environment', r.environment), ('country', j.country)) x(d, v)
          WHERE v IS NOT NULL`,
      );
      const valuesOf = (d: string) => found.filter((r) => r.d === d).map((r) => r.v).slice(0, 30);
      const filtersArb = fc
        .uniqueArray(fc.constantFrom(...dims), { maxLength: 1 })
        .chain((ds) => fc.record(Object.fromEntries(ds.map((d) => [d, fc.uniqueArray(fc.constantFrom(...valuesOf(d)), { minLength: 1, maxLength: 4 })]))));
      // Windows whose start (or end) lies a few seconds from a run's jobs, so that the moves carry
      // facts into and out of the edges.
      const { rows: runs } = await db.pool.query<{ ts: string }>(`SELECT timestamp_start::text AS ts FROM ${TABLES.runs} WHERE timestamp_start > $1 ORDER BY 1`, [now - 9 * DAY_MS]);
      const near = fc.tuple(fc.constantFrom(...runs.map((r) => Number(r.ts))), fc.oneof({ weight: 3, arbitrary: fc.constantFrom(-1, 0, 1) }, { weight: 1, arbitrary: fc.integer({ min: -5_000, max: 1_000 }) })).map(([ts, d]) => ts + d);
      const windowArb = fc
        .record({ at: near, startsThere: fc.boolean(), length: fc.oneof(fc.integer({ min: 2 * HOUR_MS, max: 12 * HOUR_MS }), fc.integer({ min: 12 * HOUR_MS, max: 8 * DAY_MS })) })
        .map(({ at, startsThere, length }) => (startsThere ? { timestamp_start: at, timestamp_end: at + length } : { timestamp_start: at - length, timestamp_end: at }));
      const moves = fc.uniqueArray(fc.oneof(fc.constantFrom(0, 1, 2), fc.integer({ min: 0, max: 5_000 })), { minLength: 3, maxLength: 5 });
      let withFacts = 0;
      let cases = 0;
      const answersBefore = cache.stats().hits.answer;
      await fc.assert(
        // `moving`: each read sent as a window ending at the request's now (no timestamp_end), as `days` is.
        fc.asyncProperty(fc.constantFrom(...names), windowArb, filtersArb, fc.uniqueArray(fc.constantFrom(...dims), { minLength: 1, maxLength: 2 }), moves, fc.boolean(), async (name, w0, filters, groupBy, offsets, moving) => {
          const query = findQuery(RUNS, name)!;
          // A first read holds the window's tail and edge buckets; the moves then read from them.
          for (const d of [2_500, 0, ...offsets]) {
            const w = { timestamp_start: w0.timestamp_start + d, timestamp_end: w0.timestamp_end + d };
            const sent = moving ? { timestamp_start: w.timestamp_start } : w;
            const [body, req] =
              name === 'job_status_trend'
                ? [{ ...sent, ...filters, bucket: 'hour' }, { bucket: 'hour' as const, filters }]
                : name === 'aggregation_by_catalog'
                  ? [{ ...sent, ...filters, limit: 1000 }, { limit: 1000, filters }]
                  : [{ ...sent, ...filters, group_by: groupBy, limit: 1000 }, { group_by: groupBy, limit: 1000, filters }];
            const answer = await prepareQuery(query, body, { kind: 'all' }, moving ? w.timestamp_end : now).run(executor, cache, true);
            expect(answer.params.timestamp_end, JSON.stringify(body)).to.equal(w.timestamp_end);
            expect(answer.meta.realtime, JSON.stringify(body)).to.equal(true);
            const o = oracle(name, { start: w.timestamp_start, end: w.timestamp_end }, req);
            const expected = (await db.pool.query(o.text, o.values as unknown[])).rows;
            cases++;
            if (expected.some((r) => Number(r.job_count ?? r.total ?? 0) > 0)) withFacts++;
            expectSameRows(answer.data, expected, `${name} ${JSON.stringify(body)}`);
          }
        }),
        propertyOptions(40),
      );
      expect(withFacts / cases, 'share of reads that compared answers with facts').to.be.at.least(0.5);
      expect(cache.stats().hits.edge, 'edges taken from the buckets held').to.be.greaterThan(10);
      expect(cache.stats().hits.answer - answersBefore, 'answers of moved windows whose edges took the same rows').to.be.greaterThan(5);
    });

    it('never takes back a job a read counted: a commit one read saw before the next probe is in every read after it', async () => {
      await refreshAll();
      // A long interval: the commit below lands between probes, where only reads can see it.
      const probeIntervalMs = 1_500;
      const cache = new PartsCache({ stateTtlMs: 600_000, probeIntervalMs });
      const executor = createExecutor(db.pool, 1);
      const body = bodyAt(Date.now());
      for (let i = 0; i < 6 && !cache.stableIds.quiet(); i++) {
        await sleep(probeIntervalMs + 10);
        await expectExact(executor, cache, body, `settling ${i}`);
      }
      expect(cache.stableIds.quiet(), 'two probes found nothing in flight').to.not.equal(undefined);
      await expectExact(executor, cache, body, 'a read while quiet');
      await insertRun(db.pool, { ts: Date.now() - 15 * MINUTE_MS, jobs: 3, tenant: 'tenant-07' });
      // Another window (never read: its tail is read in full) sees the new jobs past the stable id.
      const other = { ...body, group_by: ['tenant_id'] };
      const seen = await prepareQuery(q, other, { kind: 'all' }, other.timestamp_end).run(executor, cache, true);
      expect(seen.meta.tail_rows, 'the new jobs are in its tail').to.be.greaterThan(0);
      expect(cache.stableIds.quiet(), 'a read that saw them says something is in flight').to.equal(undefined);
      // Every read after it counts them, the window read while quiet included (exact against the oracle).
      await expectExact(executor, cache, body, 'the quiet window, after another read saw the commit');
      await expectExact(executor, cache, body, 'and again');
    });

    it('answers from the process no longer once a cycle has run: a delete it applied is gone from the next poll', async () => {
      await refreshAll();
      const probeIntervalMs = 50;
      // The version trusted for minutes: only the probe's cycle tells this process a cycle ran.
      const cache = new PartsCache({ stateTtlMs: 600_000, probeIntervalMs });
      const executor = createExecutor(db.pool, 1);
      const body = bodyAt(Date.now());
      const poll = async (context: string) => {
        await sleep(probeIntervalMs + 10);
        return expectExact(executor, cache, body, context);
      };
      const ts = Date.now() - 20 * MINUTE_MS;
      const eventId = await insertRun(db.pool, { ts, jobs: 4, tenant: 'tenant-08' });
      for (let i = 0; i < 6; i++) await poll(`poll ${i}`);
      expect(cache.stats().hits.answer, 'polls answered from the process').to.be.greaterThan(0);
      // A delete moves no id; the cycle applies it.
      await db.pool.query(`DELETE FROM ${TABLES.runsJobs} WHERE event_id = $1`, [eventId]);
      await refreshAll();
      await poll('the poll after the cycle');
    });

    it('never caches past a writer still at work: its jobs count once it commits', async () => {
      await refreshAll();
      const cache = new PartsCache({ stateTtlMs: 600_000 });
      const executor = createExecutor(db.pool, 1);
      const body = bodyAt(Date.now());
      const writer = await db.pool.connect();
      try {
        // It draws its ids first and commits last.
        await writer.query('BEGIN');
        await insertRun(writer, { ts: Date.now() - 50 * MINUTE_MS, jobs: 5, tenant: 'tenant-06' });
        const { rows } = await writer.query<{ id: string }>(`SELECT min(internal_id)::text AS id FROM ${TABLES.runsJobs} WHERE xmin::text = txid_current()::text`);
        const held = Number(rows[0]!.id);
        await insertRun(db.pool, { ts: Date.now() - 40 * MINUTE_MS, jobs: 2, tenant: 'tenant-06' });
        await readAcrossProbes(executor, cache, body, 'a writer still at work');
        await readAcrossProbes(executor, cache, body, 'still at work');
        expect(await cache.stableIds.current(executor), 'the stable id stays below its ids').to.be.lessThan(held);
        await writer.query('COMMIT');
      } finally {
        writer.release();
      }
      await readAcrossProbes(executor, cache, body, 'committed');
      expect(await cache.stableIds.current(executor)).to.be.greaterThan(0);
    });
  });
});

