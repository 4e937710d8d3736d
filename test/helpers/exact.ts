/**
 * Comparing compiled queries with the oracle (test/helpers/oracle.ts) over whatever the base tables
 * hold right now: the maintenance tests call it after every cycle.
 */
import { expect } from 'chai';
import type pg from 'pg';
import type { Access } from '../../src/auth/acl.ts';
import { createExecutor, type Executor } from '../../src/db/executor.ts';
import { PREPARED_PER_CONNECTION } from '../../src/db/prepared.ts';
import { prepareQuery } from '../../src/read/execute.ts';
import { findQuery } from '../../src/declarations/index.ts';
import { PartsCache } from '../../src/read/parts-cache.ts';
import { oracle, type OracleRequest } from './oracle.ts';

export type Row = Record<string, unknown>;

export function expectSameRows(actual: Row[], expected: Row[], context: unknown): void {
  const msg = JSON.stringify(context);
  expect(actual.length, msg).to.equal(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    expect(Object.keys(a), msg).to.deep.equal(Object.keys(e));
    for (const k of Object.keys(e)) {
      if (typeof e[k] === 'number' && !Number.isInteger(e[k])) expect(a[k] as number, `${k} ${msg}`).to.be.closeTo(e[k] as number, 1e-9);
      else expect(a[k], `${k} row ${i} ${msg}`).to.deep.equal(e[k]);
    }
  });
}

export interface Window {
  readonly timestamp_start: number;
  readonly timestamp_end: number;
}

const ALL: Access = { kind: 'all' };
const CONSTRAINED = { tenant_id: ['tenant-0[0-4]', 'Tenant-.*', 'late-.*'], environment: ['prod|uat'] };

/** One request per query shape worth checking, with the oracle's counterpart. */
function requests(w: Window): { query: string; topic: string; body: Row; oracle: OracleRequest; access?: Access }[] {
  const LIMIT = 1_000;
  return [
    { query: 'failed_jobs', topic: 'public.cps.za.runs', body: { ...w, group_by: ['tenant_id', 'source_app'], limit: LIMIT }, oracle: { group_by: ['tenant_id', 'source_app'], limit: LIMIT } },
    { query: 'failed_jobs', topic: 'public.cps.za.runs', body: { ...w, group_by: ['environment', 'country'], limit: LIMIT }, oracle: { group_by: ['environment', 'country'], limit: LIMIT } },
    {
      query: 'failed_jobs',
      topic: 'public.cps.za.runs',
      body: { ...w, group_by: ['tenant_id'], limit: LIMIT },
      oracle: { group_by: ['tenant_id'], limit: LIMIT, scope: CONSTRAINED },
      access: { kind: 'constrained', constraints: CONSTRAINED },
    },
    { query: 'failed_jobs_by_country', topic: 'public.cps.za.runs', body: { ...w, limit: LIMIT }, oracle: { group_by: ['country'], limit: LIMIT } },
    {
      query: 'failed_jobs_by_country',
      topic: 'public.cps.za.runs',
      body: { ...w, group_by: ['tenant_id', 'country'], limit: LIMIT },
      oracle: { group_by: ['tenant_id', 'country'], limit: LIMIT, scope: CONSTRAINED },
      access: { kind: 'constrained', constraints: CONSTRAINED },
    },
    { query: 'aggregation_by_catalog', topic: 'public.cps.za.runs', body: { ...w, limit: LIMIT }, oracle: { limit: LIMIT } },
    { query: 'job_status_trend', topic: 'public.cps.za.runs', body: { ...w, bucket: 'hour' }, oracle: { bucket: 'hour' } },
    { query: 'job_status_trend', topic: 'public.cps.za.runs', body: { ...w, bucket: 'day', environment: ['prod'] }, oracle: { bucket: 'day', filters: { environment: ['prod'] } } },
    { query: 'run_status_summary', topic: 'public.cps.za.status_change', body: { ...w, group_by: ['tenant_id'], limit: LIMIT }, oracle: { group_by: ['tenant_id'], limit: LIMIT } },
    { query: 'run_status_summary', topic: 'public.cps.za.status_change', body: { ...w, limit: LIMIT }, oracle: { limit: LIMIT } },
  ];
}

export interface CompareOptions {
  /** Real-time answers (default: as of the last refresh). */
  readonly realtime?: boolean;
  /** The parts cache to read through (default: a fresh one). */
  readonly cache?: PartsCache;
  /** Only the queries of this topic. */
  readonly topic?: string;
  /** What the answers are read through (default: the pool); the oracle still reads `pool`. */
  readonly executor?: Executor;
}

/** Answers and oracle rows of every request shape over each window, side by side. */
export async function compareAll(
  pool: pg.Pool,
  windows: readonly Window[],
  now: number,
  options: CompareOptions = {},
): Promise<{ context: Row; actual: Row[]; expected: Row[]; meta: Row }[]> {
  const executor = options.executor ?? createExecutor(pool, { retryAfterSeconds: 1, preparedMax: PREPARED_PER_CONNECTION });
  const cache = options.cache ?? new PartsCache({ stateTtlMs: 0 });
  const out: { context: Row; actual: Row[]; expected: Row[]; meta: Row }[] = [];
  for (const w of windows) {
    for (const r of requests(w)) {
      if (options.topic && r.topic !== options.topic) continue;
      const q = findQuery(r.topic as 'public.cps.za.runs', r.query)!;
      const answer = await prepareQuery(q, r.body, r.access ?? ALL, now).run(executor, cache, options.realtime ?? false);
      const actual = answer.data;
      const o = oracle(r.query, { start: w.timestamp_start, end: w.timestamp_end }, r.oracle);
      const expected = (await pool.query(o.text, o.values as unknown[])).rows as Row[];
      out.push({ context: { query: r.query, ...r.body }, actual, expected, meta: answer.meta });
    }
  }
  return out;
}

/** Every request shape over each window equals the oracle. */
export async function expectAllExact(pool: pg.Pool, windows: readonly Window[], now: number, options: CompareOptions = {}): Promise<void> {
  for (const c of await compareAll(pool, windows, now, options)) expectSameRows(c.actual, c.expected, c.context);
}
