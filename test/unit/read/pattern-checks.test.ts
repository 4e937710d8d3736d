import { expect } from 'chai';
import { MAX_PATTERN_CHECKS, type Access } from '../../../src/auth/acl.ts';
import { PermissionError, ValidationError } from '../../../src/core/errors.ts';
import { prepareQuery } from '../../../src/read/execute.ts';
import { failedJobs } from '../../../src/declarations/failed-jobs.ts';

const NOW = Date.UTC(2026, 10, 20, 13, 37, 21, 123);
const constrained = (patterns: number): Access => ({
  kind: 'constrained',
  constraints: { tenant_id: Array.from({ length: patterns }, (_, i) => `tenant-${i}[0-9]*`), source_app: ['app-.*'] },
});
const values = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
};

describe("a constrained user's filter values checked against their patterns", () => {
  it(`refuses with 400, matching nothing, a request whose values times patterns exceed ${MAX_PATTERN_CHECKS}`, () => {
    // 100 tenant values against 11 patterns: 1,100 checks.
    const err = thrown(() => prepareQuery(failedJobs, { tenant_id: values(100, 'outside-'), days: 1 }, constrained(11), NOW));
    expect(err).to.be.instanceOf(ValidationError);
    expect((err as Error).message).to.equal(
      `'tenant_id': your filter values times your access patterns come to 1100 checks; at most ${MAX_PATTERN_CHECKS} are made per request: send fewer values`,
    );
  });

  it('counts the checks of every constrained field together', () => {
    const err = thrown(() => prepareQuery(failedJobs, { tenant_id: values(100, 'tenant-0'), source_app: values(100, 'app-'), days: 1 }, constrained(10), NOW));
    expect((err as Error).message).to.match(/^'tenant_id', 'source_app': .* come to 1100 checks/);
  });

  it('checks each value within the cap as before: one outside the patterns is a 403', () => {
    const err = thrown(() => prepareQuery(failedJobs, { tenant_id: values(100, 'outside-'), days: 1 }, constrained(10), NOW));
    expect(err).to.be.instanceOf(PermissionError);
    expect(prepareQuery(failedJobs, { tenant_id: values(100, 'tenant-0'), days: 1 }, constrained(10), NOW).params).to.have.property('tenant_id');
  });
});
