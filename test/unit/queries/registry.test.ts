import { expect } from 'chai';
import { Params } from '../../../src/db/sql.ts';
import { findQuery, queriesOf, registeredViews, SUPPORTED_QUERIES } from '../../../src/queries/index.ts';
import { chooseLevel, planParts, rawSql, segmentSql, type PartsRequest } from '../../../src/queries/rollup.ts';
import { ROLLUP as FAILED } from '../../../src/queries/failed-jobs.ts';
import { prepareQuery } from '../../../src/queries/execute.ts';
import { PermissionError, ValidationError } from '../../../src/errors.ts';

const NOW = Date.UTC(2026, 10, 20, 13, 37, 21, 123);
const ALL = { kind: 'all' } as const;

describe('the compiled-query registry', () => {
  it('holds queries with distinct names, each backed by its own view', () => {
    const names = SUPPORTED_QUERIES.map((q) => q.name);
    expect(new Set(names).size, 'query names are unique').to.equal(names.length);
    for (const q of SUPPORTED_QUERIES) expect(q.rollup.view, q.name).to.equal(`eventstats.mv_${q.name}`);
    expect(registeredViews().map((v) => v.name).sort()).to.deep.equal(SUPPORTED_QUERIES.map((q) => q.rollup.view).sort());
  });

  it('finds queries per topic only', () => {
    expect(queriesOf('public.cps.za.status_change').map((q) => q.name)).to.deep.equal(['run_status_summary']);
    expect(findQuery('public.cps.za.status_change', 'failed_jobs')).to.equal(undefined);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(SUPPORTED_QUERIES)).to.equal(true);
  });
});

describe('choosing a rollup level', () => {
  it('uses the view when every grouped and filtered dimension is stored, else the base tables', () => {
    expect(chooseLevel(FAILED, ['tenant_id', 'source_app'])?.id).to.equal(0);
    expect(chooseLevel(FAILED, ['source_app', 'environment'])?.id).to.equal(1);
    expect(chooseLevel(FAILED, ['catalog_id'])).to.equal(undefined);
  });

  it('reads a constrained user through a level holding the constrained fields', () => {
    const req: PartsRequest = {
      window: { start: NOW - 3 * 86_400_000, end: NOW },
      filters: {},
      groupDims: ['tenant_id'],
      access: { kind: 'constrained', constraints: { environment: ['prod'] } },
    };
    const plan = planParts(FAILED, req, new Map());
    expect(plan.level?.id).to.equal(1);
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
    const covered = planParts(FAILED, req, new Map([[0, start - (start % day) - day]]));
    expect(covered.segments.filter((seg) => seg.grain === 'minute')).to.have.length(2);
    for (const r of covered.raw) expect(r.to - r.from).to.be.lessThan(60_000);
    // Covered from the window's second day on: the first partial hour comes from the raw rows.
    const later = planParts(FAILED, req, new Map([[0, start - (start % day) + day]]));
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
