import { expect } from 'chai';
import { Params } from '../../../src/db/sql.ts';
import { findQuery, queriesOf, registeredViews, SUPPORTED_QUERIES, unknownQueryNames } from '../../../src/declarations/index.ts';
import { loadApiConfig } from '../../../src/runtime.ts';
import { readingOf, storedSpec, type PartsRequest } from '../../../src/rollup/spec.ts';
import { VIEWS } from '../../../src/db/tables.ts';
import { JOB_FACTS } from '../../../src/declarations/job-facts.ts';
import { chooseLevel, planParts, rawSql, segmentSql } from '../../../src/read/plan.ts';
import { failedJobs } from '../../../src/declarations/failed-jobs.ts';

const FAILED = failedJobs.rollup;
import { prepareQuery } from '../../../src/read/execute.ts';
import { paramsJsonSchema } from '../../../src/declarations/catalog.ts';
import { clipArrays, MAX_PARAM_ITEMS } from '../../../src/declarations/params.ts';
import { PermissionError, ValidationError } from '../../../src/core/errors.ts';

const NOW = Date.UTC(2026, 10, 20, 13, 37, 21, 123);
const ALL = { kind: 'all' } as const;

describe('the compiled-query registry', () => {
  it('holds queries with distinct names, each backed by its own view or by the view it shares with the queries over the same facts', () => {
    const names = SUPPORTED_QUERIES.map((q) => q.name);
    expect(new Set(names).size, 'query names are unique').to.equal(names.length);
    for (const q of SUPPORTED_QUERIES) {
      if (q.rollup.stored) expect(q.rollup.view, q.name).to.equal(q.rollup.stored.view);
      else expect(q.rollup.view, q.name).to.equal(`eventstats.mv_${q.name}`);
    }
    expect(registeredViews().map((v) => v.name).sort()).to.deep.equal([...new Set(SUPPORTED_QUERIES.map((q) => q.rollup.view))].sort());
    expect(SUPPORTED_QUERIES.filter((q) => q.rollup.view === VIEWS.jobFacts).map((q) => q.name).sort()).to.deep.equal(['aggregation_by_catalog', 'failed_jobs', 'failed_jobs_by_country', 'job_status_trend']);
  });

  it("reads a shared view's levels, dimensions and facts as stored, and only the measures the query names, each a stored column", () => {
    for (const q of SUPPORTED_QUERIES) {
      const stored = storedSpec(q.rollup);
      expect(registeredViews().find((v) => v.name === q.rollup.view)?.spec, q.name).to.equal(stored);
      expect(q.rollup.levels, q.name).to.equal(stored.levels);
      expect(q.rollup.dims, q.name).to.equal(stored.dims);
      expect(q.rollup.facts, q.name).to.equal(stored.facts);
      for (const [name, m] of Object.entries(q.rollup.measures)) expect(Object.values(stored.measures), `${q.name}.${name}`).to.include(m);
    }
    expect(() => readingOf(JOB_FACTS, { x: 'no_such_column' })).to.throw('eventstats.mv_job_facts stores no measure no_such_column');
  });

  it('finds queries per topic only', () => {
    expect(queriesOf('public.cps.za.status_change').map((q) => q.name)).to.deep.equal(['run_status_summary']);
    expect(findQuery('public.cps.za.status_change', 'failed_jobs')).to.equal(undefined);
  });

  it('names the first unknown query a setting lists (REALTIME_OFF), and the API refuses to start with it', () => {
    expect(unknownQueryNames('REALTIME_OFF', ['failed_jobs', 'job_status_trend'])).to.equal(undefined);
    expect(unknownQueryNames('REALTIME_OFF', ['failed_jobs', 'no_such_query'])).to.match(/^invalid configuration: REALTIME_OFF\.1: 'no_such_query' is not a compiled query \(failed_jobs, /);
    expect(() => loadApiConfig({ CONF_DIR: 'conf', REALTIME_OFF: 'failed_jobs,no_such_query' })).to.throw(/REALTIME_OFF\.1: 'no_such_query' is not a compiled query/);
    expect(loadApiConfig({ CONF_DIR: 'conf', REALTIME_OFF: 'failed_jobs' }).realtime.off).to.deep.equal(['failed_jobs']);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(SUPPORTED_QUERIES)).to.equal(true);
  });
});

describe('choosing a rollup level', () => {
  it('uses the first level holding every grouped and filtered dimension, else the base tables', () => {
    expect(chooseLevel(FAILED, [])?.id).to.equal(0);
    expect(chooseLevel(FAILED, ['tenant_id', 'source_app'])?.id).to.equal(1);
    expect(chooseLevel(FAILED, ['source_app', 'environment'])?.id).to.equal(2);
    expect(chooseLevel(FAILED, ['catalog_id'])?.id).to.equal(7);
    expect(chooseLevel(FAILED, ['environment', 'catalog_id'])?.id).to.equal(8);
    expect(chooseLevel(FAILED, ['status_type'])).to.equal(undefined);
  });

  it('reads a constrained user through a level holding the constrained fields', () => {
    const req: PartsRequest = {
      window: { start: NOW - 3 * 86_400_000, end: NOW },
      filters: {},
      groupDims: ['tenant_id'],
      access: { kind: 'constrained', constraints: { environment: ['prod'] } },
    };
    const plan = planParts(FAILED, req, new Map());
    expect(plan.level?.id).to.equal(2);
    const p = new Params();
    expect(segmentSql(FAILED, plan.level!, plan.segments[0]!, req, p, 0)).to.include('~ ANY(');
    expect(p.values).to.deep.include(['^(?:prod)$']);
  });

  it('never places a value in the SQL text', () => {
    const marker = "x'); DROP TABLE public_cps_za_runs; --";
    const req: PartsRequest = { window: { start: NOW - 86_400_000, end: NOW }, filters: { tenant_id: [marker] }, groupDims: ['tenant_id'], access: ALL };
    const plan = planParts(FAILED, req, new Map());
    const p = new Params();
    const sql = [...plan.segments.map((seg, i) => segmentSql(FAILED, plan.level!, seg, req, p, i)), rawSql(FAILED, plan.raw, req, p, -1)].join(' ');
    expect(sql).not.to.include(marker);
    expect(p.values).to.deep.include([marker]);
  });

  it('uses a recent grain only where the view holds it', () => {
    const day = 86_400_000;
    const start = Math.floor(NOW / day) * day - 3 * day + 1234;
    const req: PartsRequest = { window: { start, end: NOW }, filters: {}, groupDims: ['tenant_id', 'source_app'], access: ALL };
    const minutes = (cov: Map<number, number>) => planParts(FAILED, req, cov).segments.filter((seg) => seg.grain === 'minute');
    expect(minutes(new Map())).to.deep.equal([]);
    // Covered from before the window: minute segments at both edges, raw edges under a minute.
    const covered = planParts(FAILED, req, new Map([[1, start - (start % day) - day]]));
    expect(covered.segments.filter((seg) => seg.grain === 'minute')).to.have.length(2);
    for (const r of covered.raw) expect(r.to - r.from).to.be.lessThan(60_000);
    // Covered from the window's second day on: the first partial hour comes from the raw rows.
    const later = planParts(FAILED, req, new Map([[1, start - (start % day) + day]]));
    expect(later.raw[0]).to.deep.equal({ from: start, to: start - 1234 + 3_600_000 });
  });
});

describe('preparing a compiled query', () => {
  const failed = findQuery('public.cps.za.runs', 'failed_jobs')!;

  it('normalises parameters: defaults, filters as lists, days into timestamps', () => {
    const { params } = prepareQuery(failed, { days: 2, tenant_id: 'tenant-01' }, ALL, NOW);
    expect(params).to.deep.equal({ tenant_id: ['tenant-01'], group_by: ['tenant_id', 'source_app'], limit: 100, timestamp_start: NOW - 2 * 86_400_000, timestamp_end: NOW });
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['an unknown key', { nope: 1 }, /unknown field\(s\) 'nope'/],
    ['a float timestamp', { timestamp_start: 1.5 }, /'timestamp_start': must be an integer/],
    ['a string limit', { limit: '10' }, /'limit': must be an integer from 1 to 1000/],
    ['a limit over 1000', { limit: 1001 }, /'limit': must be an integer from 1 to 1000/],
    ['an empty filter list', { tenant_id: [] }, /'tenant_id': must be a string or a non-empty array/],
    ['a filter list of 101 values', { tenant_id: Array.from({ length: 101 }, (_, i) => `t${i}`) }, /'tenant_id': must be a string or a non-empty array of up to 100/],
    ['a number as filter', { tenant_id: 5 }, /'tenant_id'/],
    ['an unknown group_by dimension', { group_by: ['nope'] }, /'group_by.0': must be a non-empty array of distinct values/],
    ['an empty group_by', { group_by: [] }, /'group_by': must be a non-empty array/],
    ['a repeated group_by dimension', { group_by: ['tenant_id', 'tenant_id'] }, /'group_by': must be a non-empty array of distinct/],
    ['days out of range', { days: 367 }, /'days': must be an integer from 1 to 366/],
    ['a reversed window', { timestamp_start: 10, timestamp_end: 5 }, /must not be after/],
  ];
  for (const [what, body, message] of bad) {
    it(`answers 400 naming the parameter for ${what}`, () => {
      expect(() => prepareQuery(failed, body, ALL, NOW)).to.throw(ValidationError, message);
    });
  }

  it('refuses a constrained user a filter value outside their patterns', () => {
    const access = { kind: 'constrained', constraints: { tenant_id: ['tenant-0[0-4]'] } } as const;
    expect(() => prepareQuery(failed, { tenant_id: ['tenant-01', 'tenant-07'] }, access, NOW)).to.throw(PermissionError, /'tenant-07'/);
    expect(() => prepareQuery(failed, { tenant_id: 'tenant-03' }, access, NOW)).not.to.throw();
  });
});

describe('long arrays in a compiled query body (issue 14, found by the HTTP fuzz)', () => {
  const failed = findQuery('public.cps.za.runs', 'failed_jobs')!;

  /** A 15,000-item array that counts reads of its items past the ones a parse needs. */
  function counted(item: unknown): { array: unknown[]; readsPastCut: () => number } {
    let reads = 0;
    const array = new Proxy(Array(15_000).fill(item), {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key) && Number(key) > MAX_PARAM_ITEMS) reads += 1;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    return { array, readsPastCut: () => reads };
  }

  it(`answers a 15,000-item group_by with its rule, parsing only its first ${MAX_PARAM_ITEMS + 1} items (zod made an issue per item: 40 ms of event loop)`, () => {
    const { array, readsPastCut } = counted(1);
    expect(() => prepareQuery(failed, { group_by: array }, ALL, NOW)).to.throw(ValidationError, /^'group_by\.0': must be a non-empty array of distinct values/);
    expect(readsPastCut()).to.equal(0);
  });

  it('keeps every key an own key, __proto__ included, when it cuts', () => {
    const body = JSON.parse(`{"__proto__":[${Array(500).fill(1).join(',')}],"days":1}`) as Record<string, unknown>;
    const clipped = clipArrays(body);
    expect(Object.keys(clipped)).to.deep.equal(['__proto__', 'days']);
    expect((clipped['__proto__'] as unknown[]).length).to.equal(MAX_PARAM_ITEMS + 1);
    expect(Object.getPrototypeOf(clipped)).to.equal(Object.prototype);
    expect(() => prepareQuery(failed, body, ALL, NOW)).to.throw(ValidationError, /unknown field\(s\) '__proto__'/);
  });

  it(`holds for every compiled query: none takes an array of more than ${MAX_PARAM_ITEMS} items`, () => {
    const most = (schema: Record<string, unknown>): number => {
      if (Array.isArray(schema.anyOf)) return Math.max(...(schema.anyOf as Record<string, unknown>[]).map(most));
      if (schema.type !== 'array') return 0;
      const items = schema.items as { enum?: unknown[] } | undefined;
      return Math.min((schema.maxItems as number | undefined) ?? Infinity, items?.enum?.length ?? Infinity);
    };
    for (const q of SUPPORTED_QUERIES) {
      for (const [name, schema] of Object.entries(paramsJsonSchema(q).properties as Record<string, Record<string, unknown>>)) {
        expect(most(schema), `${q.name}.${name}`).to.be.at.most(MAX_PARAM_ITEMS);
      }
    }
  });
});
