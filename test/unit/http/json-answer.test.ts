/**
 * A compiled query's JSON answer serialised once (src/http/answer.ts jsonAnswer): byte for byte what
 * JSON.stringify of the envelope gives, and its identity the same with meta.staleness_ms null.
 */
import { expect } from 'chai';
import { jsonAnswer } from '../../../src/http/answer.ts';
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
