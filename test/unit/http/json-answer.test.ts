/**
 * A compiled query's JSON answer serialised once (src/http/answer.ts jsonAnswer): byte for byte what
 * JSON.stringify of the envelope gives, and its identity the same with meta.staleness_ms null; a
 * delivery held for a poll answered from the process sent again byte for byte as serialising gives.
 */
import { expect } from 'chai';
import type { Request, Response } from 'express';
import { findQuery } from '../../../src/declarations/index.ts';
import { jsonAnswer, sendQueryAnswer } from '../../../src/http/answer.ts';
import type { Delivery } from '../../../src/read/parts-cache.ts';
import { okBody } from '../../../src/http/envelope.ts';
import type { QueryResult } from '../../../src/read/execute.ts';
import { RowTexts } from '../../../src/http/row-texts.ts';
import type { PartRow } from '../../../src/rollup/spec.ts';

const META: QueryResult['meta'] = {
  view: 'eventstats.mv_failed_jobs',
  refreshed_at: '2026-11-20T13:00:00.000Z',
  staleness_ms: 17,
  database: 'primary',
  replica_lag_ms: null,
  realtime: true,
  tail_rows: 3,
  source_checked_at: '2026-11-20T13:37:00.000Z',
  row_count: 2,
  truncated: false,
};

function answer(params: Record<string, unknown>, staleness: number | null): QueryResult {
  const data = [
    { tenant_id: 't1', failed_count: 3, note: '"meta":{"view":"x"}' },
    { tenant_id: '"staleness_ms":null', failed_count: 1, note: null },
  ];
  return { params, data, meta: { ...META, staleness_ms: staleness } };
}

describe('jsonAnswer', () => {
  for (const staleness of [17, 0, null]) {
    it(`gives the bytes of JSON.stringify of the envelope, and the identity without staleness_ms (staleness ${staleness})`, () => {
      // A filter value that looks like the meta (and like the key it replaces) must not be taken for it.
      const params = { timestamp_start: 1, timestamp_end: 2, tenant_id: [`"meta":${JSON.stringify({ ...META, staleness_ms: null })}`] };
      const result = answer(params, staleness);
      const { body, identity } = jsonAnswer('public.cps.za.runs', 'failed_jobs', result);
      const extra = { topic: 'public.cps.za.runs', query: 'failed_jobs', params };
      expect(body).to.equal(JSON.stringify(okBody(result.data, { ...extra, meta: result.meta })));
      expect(identity).to.equal(JSON.stringify(okBody(result.data, { ...extra, meta: { ...result.meta, staleness_ms: null } })));
    });
  }
});

/** A response that records what sendCacheable writes. */
function fakeResponse() {
  const headers: Record<string, unknown> = {};
  let body: Buffer | undefined;
  let status = 0;
  const res = {
    setHeader: (k: string, v: unknown) => (headers[k.toLowerCase()] = v),
    removeHeader: (k: string) => delete headers[k.toLowerCase()],
    status: (s: number) => ((status = s), res),
    end: (b?: Buffer) => (body = b),
  };
  return { res: res as unknown as Response, sent: () => ({ status, etag: headers.etag, body: body?.toString() }) };
}

describe('sendQueryAnswer with a poll answered from the process (deliveries)', () => {
  const query = findQuery('public.cps.za.runs', 'failed_jobs')!;
  const params = { timestamp_start: 1, timestamp_end: 2 };
  const send = (result: QueryResult, format: 'json' | 'csv') => {
    const { res, sent } = fakeResponse();
    sendQueryAnswer({ headers: {} } as Request, res, { query, topic: 'public.cps.za.runs', result, format, now: Date.UTC(2026, 10, 20), cron: '* * * * *' });
    return sent();
  };

  for (const format of ['json', 'csv'] as const) {
    it(`sends a held delivery's bytes again, the same as serialising the rows (${format}); not when the meta changed`, () => {
      const kept: Delivery[] = [];
      let held: Delivery | undefined;
      const deliveries = {
        get held() {
          return held;
        },
        keep: (d: Delivery) => kept.push((held = d)),
      };
      const fresh = answer(params, 5);
      const first = send({ ...fresh, deliveries }, format);
      expect(kept).to.have.length(1);
      // A second poll: other rows objects (never read when the delivery is held), another staleness.
      const again = { ...answer(params, 9), data: [{ tenant_id: 'never serialised' }] };
      const second = send({ ...again, deliveries }, format);
      expect(kept, 'nothing new kept').to.have.length(1);
      const plain = send(answer(params, 9), format);
      expect(second).to.deep.equal({ ...plain });
      expect(second.etag).to.equal(first.etag);
      // Another meta (a cycle checked since): serialised again, and kept.
      const later = { ...answer(params, 9), meta: { ...answer(params, 9).meta, source_checked_at: '2026-11-20T13:38:00.000Z' } };
      expect(send({ ...later, deliveries }, format)).to.deep.equal(send(later, format));
      expect(kept).to.have.length(2);
    });
  }
});

/** A declared query's rowwise answer over `rows` (merged rows), as execute.ts hands it up. */
function rowwiseResult(name: 'failed_jobs' | 'aggregation_by_catalog', groupBy: string[] | undefined, rows: PartRow[], staleness: number | null): QueryResult {
  const query = findQuery('public.cps.za.runs', name)!;
  const params = query.params.parse({ timestamp_start: 1, timestamp_end: 2, ...(groupBy ? { group_by: groupBy } : {}) }) as Record<string, unknown>;
  const plan = query.plan({ params: params as never, window: { start: 1, end: 2 }, access: { kind: 'all' } });
  const data = plan.finalize({ rows, truncated: false }).rows;
  return { params, data, meta: { ...META, staleness_ms: staleness, row_count: data.length }, sources: { key: `${name}|${plan.rowwise!.key}`, rows, row: plan.rowwise!.row } };
}

const FAILED_ROWS: PartRow[] = [
  { tenant_id: 't1', source_app: 'app "a"', failed_count: 7, job_count: 9, last_failure_at: 1_764_000_000_123 },
  { tenant_id: 't2', source_app: null, failed_count: 1, job_count: 3, last_failure_at: null },
  { tenant_id: 'ü\u2028', source_app: 'x', failed_count: 1, job_count: 7, last_failure_at: 5 },
];
const CATALOG_ROWS: PartRow[] = [
  { catalog_id: 'c1', job_count: 4, succeeded_count: 3, failed_count: 1, elapsed_sum: 10.5, elapsed_n: 3, elapsed_min: 1, elapsed_max: 7, last_job_at: 99 },
  { catalog_id: 'c2', job_count: 1, succeeded_count: 0, failed_count: 0, elapsed_sum: null, elapsed_n: 0, elapsed_min: null, elapsed_max: null, last_job_at: null },
];
const CASES = [
  ['failed_jobs', ['source_app', 'tenant_id'], FAILED_ROWS],
  ['failed_jobs', undefined, FAILED_ROWS],
  ['aggregation_by_catalog', undefined, CATALOG_ROWS],
] as const;

describe('jsonAnswer with rows made one per merged row (row texts reused)', () => {
  for (const [name, groupBy, rows] of CASES) {
    for (const staleness of [17, null]) {
      it(`gives the bytes of JSON.stringify of the envelope, first and when its row texts are reused (${name}, group_by ${groupBy ?? 'default'}, staleness ${staleness})`, () => {
        const texts = new RowTexts();
        const result = rowwiseResult(name, groupBy ? [...groupBy] : undefined, [...rows], staleness);
        const extra = { topic: 'public.cps.za.runs', query: name, params: result.params };
        const body = JSON.stringify(okBody(result.data, { ...extra, meta: result.meta }));
        const identity = JSON.stringify(okBody(result.data, { ...extra, meta: { ...result.meta, staleness_ms: null } }));
        for (const round of ['made', 'made and kept', 'reused', 'the page kept']) {
          // A page made anew from the same merged rows (a new array) until the last round, which
          // reads the array of the round before again (a page kept with its answer).
          const page = round === 'the page kept' ? result : { ...result, sources: { ...result.sources!, rows: [...result.sources!.rows] } };
          const answer = jsonAnswer('public.cps.za.runs', name, page, texts);
          expect(answer.body, round).to.equal(body);
          expect(answer.identity, round).to.equal(identity);
        }
        expect(texts.bytes).to.be.greaterThan(0);
      });
    }
  }

  it('takes a row text from the same merged row by the same row function only', () => {
    const texts = new RowTexts();
    const first = rowwiseResult('failed_jobs', ['tenant_id'], FAILED_ROWS, 1);
    const anew = (r: QueryResult): QueryResult => ({ ...r, sources: { ...r.sources!, rows: [...r.sources!.rows] } });
    // Seen once: made, not kept (a row an answer's edges changed is new on every request).
    jsonAnswer('public.cps.za.runs', 'failed_jobs', anew(first), texts);
    expect(texts.bytes).to.equal(0);
    jsonAnswer('public.cps.za.runs', 'failed_jobs', anew(first), texts);
    expect(texts.bytes).to.be.greaterThan(0);
    // The same merged rows by the same row function: their texts are reused (the row function is not called again).
    const again = anew({ ...first, sources: { ...first.sources!, row: () => ({ never: 'serialised' }) } });
    expect(jsonAnswer('public.cps.za.runs', 'failed_jobs', again, texts).body).to.equal(jsonAnswer('public.cps.za.runs', 'failed_jobs', first, new RowTexts()).body);
    // Another group_by over the same merged rows: another row function, made anew.
    const other = rowwiseResult('failed_jobs', ['source_app', 'tenant_id'], FAILED_ROWS, 1);
    const extra = { topic: 'public.cps.za.runs', query: 'failed_jobs', params: other.params };
    expect(jsonAnswer('public.cps.za.runs', 'failed_jobs', other, texts).body).to.equal(JSON.stringify(okBody(other.data, { ...extra, meta: other.meta })));
  });

  it('joins and digests the rows of one page once: read again, no row is made, until another row function reads it', () => {
    const texts = new RowTexts();
    const result = rowwiseResult('failed_jobs', ['tenant_id'], FAILED_ROWS, 1);
    const expected = jsonAnswer('public.cps.za.runs', 'failed_jobs', result, new RowTexts());
    let made = 0;
    const counting = { ...result, sources: { ...result.sources!, row: (r: PartRow) => (made++, result.sources!.row(r)) } };
    for (let i = 0; i < 3; i++) {
      const answer = jsonAnswer('public.cps.za.runs', 'failed_jobs', counting, texts);
      expect(answer.body).to.equal(expected.body);
      expect(answer.etag).to.equal(expected.etag);
    }
    expect(made, 'each row made once, at the first read').to.equal(FAILED_ROWS.length);
    // The same array under another row function (another group_by): made by it.
    const other = rowwiseResult('failed_jobs', ['source_app', 'tenant_id'], FAILED_ROWS, 1);
    const extra = { topic: 'public.cps.za.runs', query: 'failed_jobs', params: other.params };
    expect(jsonAnswer('public.cps.za.runs', 'failed_jobs', { ...other, sources: { ...other.sources!, rows: result.sources!.rows } }, texts).body).to.equal(
      JSON.stringify(okBody(other.data, { ...extra, meta: other.meta })),
    );
  });

  it('keeps the row texts within their bound in bytes', () => {
    const texts = new RowTexts(20_000);
    for (let i = 0; i < 500; i++) {
      const rows = [{ ...FAILED_ROWS[0]!, failed_count: i + 1 }];
      for (let twice = 0; twice < 2; twice++) jsonAnswer('public.cps.za.runs', 'failed_jobs', rowwiseResult('failed_jobs', undefined, [...rows], 1), texts);
    }
    expect(texts.bytes).to.be.within(1, 20_000);
  });
});

describe('the weak entity tag of a JSON answer made of row texts', () => {
  const tag = (result: QueryResult, texts = new RowTexts()) => jsonAnswer('public.cps.za.runs', 'failed_jobs', result, texts).etag;
  const base = () => rowwiseResult('failed_jobs', ['tenant_id', 'source_app'], FAILED_ROWS.map((r) => ({ ...r })), 5);

  it('is weak, and the same for the same bytes: made or reused, in another process, whatever staleness_ms', () => {
    const texts = new RowTexts();
    const first = tag(base(), texts);
    expect(first).to.match(/^W\/"[A-Za-z0-9_-]{43}"$/);
    const result = base();
    expect(tag(result, texts)).to.equal(first);
    expect(tag(result, texts), 'reused texts').to.equal(first);
    expect(tag({ ...result, meta: { ...result.meta, staleness_ms: 900 } })).to.equal(first);
  });

  it('changes whenever a byte of the identity changes: a measure, a key, the order of rows, a row more or less, the params, the meta', () => {
    const first = tag(base());
    const changedRow = (i: number, patch: PartRow) => {
      const rows = FAILED_ROWS.map((r) => ({ ...r }));
      rows[i] = { ...rows[i]!, ...patch };
      return rowwiseResult('failed_jobs', ['tenant_id', 'source_app'], rows, 5);
    };
    const variants: [string, QueryResult][] = [
      ['a count', changedRow(2, { job_count: 8 })],
      ['an instant', changedRow(0, { last_failure_at: 1_764_000_000_124 })],
      ['a key', changedRow(1, { source_app: '' })],
      ['the order', rowwiseResult('failed_jobs', ['tenant_id', 'source_app'], [FAILED_ROWS[1]!, FAILED_ROWS[0]!, FAILED_ROWS[2]!].map((r) => ({ ...r })), 5)],
      ['a row less', rowwiseResult('failed_jobs', ['tenant_id', 'source_app'], FAILED_ROWS.slice(0, 2).map((r) => ({ ...r })), 5)],
      ['the group_by', rowwiseResult('failed_jobs', ['source_app', 'tenant_id'], FAILED_ROWS.map((r) => ({ ...r })), 5)],
      ['the meta', { ...base(), meta: { ...base().meta, tail_rows: 4 } }],
    ];
    const seen = new Set([first]);
    for (const [what, result] of variants) {
      const identity = jsonAnswer('public.cps.za.runs', 'failed_jobs', result, new RowTexts()).identity;
      expect(identity, what).not.to.equal(jsonAnswer('public.cps.za.runs', 'failed_jobs', base(), new RowTexts()).identity);
      const t = tag(result);
      expect(seen.has(t), what).to.equal(false);
      seen.add(t);
    }
  });
});
