import { expect } from 'chai';
import type { Request } from 'express';
import { AppError } from '../../../src/core/errors.ts';
import { parameterTakes, queryEntries, queryStringParams } from '../../../src/http/query-string.ts';
import { failedJobs } from '../../../src/declarations/failed-jobs.ts';
import { jobStatusTrend } from '../../../src/declarations/job-status-trend.ts';
import { runStatusSummary } from '../../../src/declarations/run-status-summary.ts';

const params = (query: Parameters<typeof queryStringParams>[1], search: string) => queryStringParams({ originalUrl: `/stats/t/query/q?${search}` } as Request, query);

describe('the query string of a GET, as the body of the same POST', () => {
  it('reads what each parameter takes from its JSON Schema: lists, numbers, strings', () => {
    const takes = parameterTakes(failedJobs);
    expect(takes.get('group_by')).to.deep.equal({ list: true, string: false, number: false });
    expect(takes.get('tenant_id')).to.deep.equal({ list: true, string: true, number: false });
    expect(takes.get('days')).to.deep.equal({ list: false, string: false, number: true });
    expect(takes.get('limit')).to.deep.equal({ list: false, string: false, number: true });
    expect(parameterTakes(jobStatusTrend).get('bucket')).to.deep.equal({ list: false, string: true, number: false });
  });

  it('joins comma lists and repeated keys into one array, in order', () => {
    expect(params(failedJobs, 'group_by=tenant_id,source_app&tenant_id=t1,t2&tenant_id=t3')).to.deep.equal({
      group_by: ['tenant_id', 'source_app'],
      tenant_id: ['t1', 't2', 't3'],
    });
    expect(params(failedJobs, 'group_by=tenant_id&group_by=environment')).to.deep.equal({ group_by: ['tenant_id', 'environment'] });
  });

  it('keeps a single filter value a string, as {"tenant_id": "t1"}, and a single group_by a list', () => {
    expect(params(failedJobs, 'tenant_id=t1&group_by=country')).to.deep.equal({ tenant_id: 't1', group_by: ['country'] });
  });

  it('reads an empty list parameter as the empty list, and an empty filter as the empty string', () => {
    expect(params(runStatusSummary, 'group_by=&tenant_id=')).to.deep.equal({ group_by: [], tenant_id: '' });
  });

  it('turns JSON number literals into numbers where the schema wants a number, and nothing else', () => {
    expect(params(failedJobs, 'days=7&limit=1.5&timestamp_end=-1e3')).to.deep.equal({ days: 7, limit: 1.5, timestamp_end: -1000 });
    expect(params(failedJobs, 'days=07&limit=0x10&timestamp_start=&timestamp_end=1e')).to.deep.equal({ days: '07', limit: '0x10', timestamp_start: '', timestamp_end: '1e' });
    expect(params(failedJobs, 'tenant_id=42')).to.deep.equal({ tenant_id: '42' });
    expect(params(jobStatusTrend, 'bucket=1')).to.deep.equal({ bucket: '1' });
  });

  it('gives a repeated single-valued parameter as an array (which its schema refuses, as a POST array)', () => {
    expect(params(failedJobs, 'days=1&days=2&bucket=x&bucket=y')).to.deep.equal({ days: ['1', '2'], bucket: ['x', 'y'] });
  });

  it('passes unknown keys and format through as strings, __proto__ as an own key', () => {
    const out = params(failedJobs, 'tenant=x&format=csv&__proto__=y');
    expect(Object.keys(out)).to.deep.equal(['tenant', 'format', '__proto__']);
    expect(Object.getPrototypeOf(out)).to.equal(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).to.equal('y');
  });

  it('decodes + as a space and percent-escapes as UTF-8 before splitting lists (%2C splits, as URLSearchParams writes commas)', () => {
    expect(params(failedJobs, 'tenant_id=a+b%2Cc%C3%A9&source_app=x%20y&environment&&')).to.deep.equal({ tenant_id: ['a b', 'cé'], source_app: 'x y', environment: '' });
    expect(queryEntries('/x')).to.deep.equal(new Map());
  });

  it('answers 400 naming a malformed percent-escape rather than reading it as U+FFFD', () => {
    for (const search of ['tenant_id=%E0%A4%A', 'tenant_id=%ED%A0%80', '%ZZ=1']) {
      expect(() => params(failedJobs, search), search)
        .to.throw(AppError)
        .that.satisfies((e: AppError) => e.status === 400 && /^query: '%[^']+' is not valid percent-encoded UTF-8$/.test(e.message));
    }
  });
});
