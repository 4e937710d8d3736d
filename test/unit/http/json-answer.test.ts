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
