import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { AccessControl, valueAllowed, type Access } from '../../../src/auth/acl.ts';

const RUNS = 'public.cps.za.runs';

describe('AccessControl', () => {
  it('gives every user of the list form access to all rows', () => {
    const acl = AccessControl.fromObject({ [RUNS]: ['alice', 'bob'] });
    expect(acl.access(RUNS, 'alice')).to.deep.equal({ kind: 'all' });
    expect(acl.access(RUNS, 'bob')).to.deep.equal({ kind: 'all' });
  });

  it('gives a user of the constraints form the listed constraints', () => {
    const acl = AccessControl.fromObject({ [RUNS]: { carol: { tenant_id: ['acme.*'], environment: ['prod'] } } });
    expect(acl.access(RUNS, 'carol')).to.deep.equal({ kind: 'constrained', constraints: { tenant_id: ['acme.*'], environment: ['prod'] } });
  });

  it('treats an empty constraints object as access to every row', () => {
    const acl = AccessControl.fromObject({ [RUNS]: { dave: {} } });
    expect(acl.access(RUNS, 'dave')).to.deep.equal({ kind: 'all' });
  });

  it('matches topics and user names case-insensitively', () => {
    const acl = AccessControl.fromObject({ 'Public.CPS.za.Runs': ['Alice'], 'public.cps.za.test': { Carol: { source_app: ['x'] } } });
    expect(acl.access('public.cps.za.runs', 'ALICE')).to.deep.equal({ kind: 'all' });
    expect(acl.access('PUBLIC.CPS.ZA.TEST', 'carol')?.kind).to.equal('constrained');
  });

  it('answers undefined for a user or a topic that is not listed', () => {
    const acl = AccessControl.fromObject({ [RUNS]: ['alice'], 'public.cps.za.test': [] });
    expect(acl.access(RUNS, 'mallory')).to.equal(undefined);
    expect(acl.access('public.cps.za.dlchange', 'alice')).to.equal(undefined);
    expect(acl.access('public.cps.za.test', 'alice')).to.equal(undefined);
  });

  it('freezes what it hands out, so a caller cannot widen its own access', () => {
    const acl = AccessControl.fromObject({ [RUNS]: { carol: { tenant_id: ['acme'] } } });
    const access = acl.access(RUNS, 'carol');
    expect(Object.isFrozen(access)).to.equal(true);
    expect(access?.kind === 'constrained' && Object.isFrozen(access.constraints.tenant_id)).to.equal(true);
  });

  describe('rejects a bad file with a message naming the culprit', () => {
    const rejects = (raw: unknown, message: RegExp) => expect(() => AccessControl.fromObject(raw)).to.throw(message);

    it('rejects an unknown constraint field, naming topic, user and the allowed fields', () => {
      rejects(
        { [RUNS]: { carol: { country: ['za'] } } },
        /^access\.json: topic "public\.cps\.za\.runs", user "carol": unknown field country; allowed: tenant_id, source_app, environment$/,
      );
    });

    it('rejects an invalid regular expression, naming the field and the pattern', () => {
      rejects({ [RUNS]: { carol: { tenant_id: ['ok', 'acme('] } } }, /topic "public\.cps\.za\.runs", user "carol", field "tenant_id", pattern #2: regular expression "acme\(" is not valid: /);
    });

    it('rejects constructs that PostgreSQL reads differently from JS, naming topic, user, field and the construct', () => {
      rejects(
        { [RUNS]: { carol: { environment: ['prod'], tenant_id: ['acme', '[^]'] } } },
        /^access\.json: topic "public\.cps\.za\.runs", user "carol", field "tenant_id", pattern #2: regular expression "\[\^\]" uses "\[\^\]": an empty class /,
      );
      for (const [pattern, construct] of [['[]', '[]'], ['acme\\b', '\\b'], ['\\x41', '\\x41'], ['(?<t>acme)', '(?<t>acme)'], ['[[:a]', '['], ['\\p{L}+', '\\p{L}'], ['\\u{41}', '\\u{41}'], ['(a)\\1', '\\1'], ['x(?=y)y', '(?=y)']]) {
        rejects({ [RUNS]: { carol: { tenant_id: [pattern!] } } }, new RegExp(`field "tenant_id", pattern #1: regular expression .* uses ${JSON.stringify(construct).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}: `));
      }
    });

    it('rejects a pattern whose matching time could explode, or a very long one, at load', () => {
      for (const pattern of ['(a+)+', '(a|aa)*', '(.*)*', '.*-.*-.*']) {
        rejects({ [RUNS]: { carol: { source_app: [pattern] } } }, /user "carol", field "source_app", pattern #1: regular expression .* (nests|repeats|has 3)/);
      }
      rejects({ [RUNS]: { carol: { source_app: ['a'.repeat(10_000)] } } }, /pattern #1: regular expression "a{60}…" is 10000 characters long; the limit is 256$/);
    });

    it('accepts the constructs both engines read alike', () => {
      const patterns = ['acme.*', 'a|b', '[a-z0-9_-]+', '(?:dev|prod)[0-9]{1,2}', '\\.', 'a\\\\b', '[\\]x]', '^tenant-0[0-4]$'];
      expect(() => AccessControl.fromObject({ [RUNS]: { carol: { tenant_id: patterns } } })).not.to.throw();
    });

    it('rejects an empty pattern list and an empty pattern', () => {
      rejects({ [RUNS]: { carol: { environment: [] } } }, /user "carol", field "environment": /);
      rejects({ [RUNS]: { carol: { environment: [''] } } }, /pattern #1: a pattern must not be empty/);
    });

    it('rejects a topic that is neither a list nor an object of users', () => {
      rejects({ [RUNS]: 'alice' }, /^access\.json: topic "public\.cps\.za\.runs": /);
      rejects({ [RUNS]: ['alice', 7] }, /topic "public\.cps\.za\.runs", user #2: /);
      rejects([RUNS], /^access\.json: /);
    });

    it('rejects a user or topic listed twice in different case', () => {
      rejects({ [RUNS]: ['alice', 'Alice'] }, /user "Alice" is listed twice/);
      rejects({ [RUNS]: ['alice'], [RUNS.toUpperCase()]: ['bob'] }, /topic "PUBLIC\.CPS\.ZA\.RUNS" is listed twice/);
    });
  });

  describe('fromFile', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-acl-'));
    });
    after(async () => rm(dir, { recursive: true, force: true }));

    it('reads access.json from disk', async () => {
      const file = path.join(dir, 'access.json');
      await writeFile(file, JSON.stringify({ [RUNS]: ['alice'] }));
      expect(AccessControl.fromFile(file).access(RUNS, 'alice')).to.deep.equal({ kind: 'all' });
    });

    it('names the file when it is missing, is not JSON, or breaks a rule', async () => {
      const broken = path.join(dir, 'broken.json');
      await writeFile(broken, '{ "a": ');
      const invalid = path.join(dir, 'invalid.json');
      await writeFile(invalid, JSON.stringify({ [RUNS]: { carol: { tenant_id: ['('] } } }));
      expect(() => AccessControl.fromFile(path.join(dir, 'none.json'))).to.throw(/none\.json: cannot read the access file/);
      expect(() => AccessControl.fromFile(broken)).to.throw(/broken\.json: cannot read the access file/);
      expect(() => AccessControl.fromFile(invalid)).to.throw(/invalid\.json: topic "public\.cps\.za\.runs", user "carol"/);
    });
  });
});

describe('valueAllowed', () => {
  const constrained = (tenant: string[]): Access => ({ kind: 'constrained', constraints: { tenant_id: tenant } });

  it('requires a pattern to match the whole value', () => {
    const access = constrained(['acme']);
    expect(valueAllowed(access, 'tenant_id', 'acme')).to.equal(true);
    expect(valueAllowed(access, 'tenant_id', 'acme2')).to.equal(false);
    expect(valueAllowed(access, 'tenant_id', 'xacme')).to.equal(false);
  });

  it('anchors every alternative, not just the first and the last', () => {
    const access = constrained(['acme|beta']);
    expect(valueAllowed(access, 'tenant_id', 'beta')).to.equal(true);
    expect(valueAllowed(access, 'tenant_id', 'acme2')).to.equal(false);
    expect(valueAllowed(access, 'tenant_id', 'xbeta')).to.equal(false);
  });

  it('accepts a value matching any of several patterns', () => {
    const access = constrained(['acme.*', 'globex']);
    expect(valueAllowed(access, 'tenant_id', 'acme-za')).to.equal(true);
    expect(valueAllowed(access, 'tenant_id', 'globex')).to.equal(true);
    expect(valueAllowed(access, 'tenant_id', 'initech')).to.equal(false);
  });

  it('lets a pattern match across a newline, as PostgreSQL does', () => {
    expect(valueAllowed(constrained(['a.b']), 'tenant_id', 'a\nb')).to.equal(true);
  });

  it('allows any value of a field without constraints, and anything to unconstrained access', () => {
    expect(valueAllowed(constrained(['acme']), 'environment', 'prod')).to.equal(true);
    expect(valueAllowed({ kind: 'all' }, 'tenant_id', 'anything')).to.equal(true);
  });
});
