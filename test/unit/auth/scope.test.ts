import { expect } from 'chai';
import { valueAllowed, type Access, type ScopedField } from '../../../src/auth/acl.ts';
import { patternProblem } from '../../../src/auth/pattern.ts';
import { scopeCondition } from '../../../src/auth/scope.ts';
import { Params } from '../../../src/db/sql.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';

const COLUMNS: Readonly<Record<ScopedField, string>> = Object.freeze({ tenant_id: 'r.tenant_id', source_app: 'r.source_app', environment: 'r.environment' });

describe('scopeCondition', () => {
  it('answers TRUE for unconstrained access and binds nothing', () => {
    const p = new Params();
    expect(scopeCondition({ kind: 'all' }, COLUMNS, p)).to.equal('TRUE');
    expect(p.values).to.deep.equal([]);
  });

  it('binds one array of anchored patterns per constrained field, ANDed in field order', () => {
    const p = new Params();
    const access: Access = { kind: 'constrained', constraints: { environment: ['prod'], tenant_id: ['acme.*', 'globex'] } };
    expect(scopeCondition(access, COLUMNS, p)).to.equal('(r.tenant_id ~ ANY($1::text[]) AND r.environment ~ ANY($2::text[]))');
    expect(p.values).to.deep.equal([['^(?:acme.*)$', '^(?:globex)$'], ['^(?:prod)$']]);
  });

  it('numbers its placeholders after the values already bound', () => {
    const p = new Params();
    p.add(10);
    const sql = scopeCondition({ kind: 'constrained', constraints: { source_app: ['etl'] } }, COLUMNS, p);
    expect(sql).to.equal('(r.source_app ~ ANY($2::text[]))');
    expect(p.values).to.deep.equal([10, ['^(?:etl)$']]);
  });

  it('keeps patterns out of the SQL text, whatever they contain', () => {
    const p = new Params();
    const sql = scopeCondition({ kind: 'constrained', constraints: { tenant_id: ["x') OR TRUE --"] } }, COLUMNS, p);
    expect(sql).not.to.include('OR TRUE');
    expect(p.values).to.deep.equal([["^(?:x') OR TRUE --)$"]]);
  });

  describe('in PostgreSQL', () => {
    let db: TestDatabase;
    before(async () => {
      db = await createTestDatabase({ migrate: false });
    });
    after(async () => db.drop());

    const VALUES = [
      ...['acme', 'acme2', 'xacme', 'acme-za', 'beta', 'betax', 'globex', 'prod1', 'prod12', 'a.b', 'axb', 'a\nb', 'xy', 'ab', ']', 'a\\b', 'a\\', ''],
      ...['[', '-', '^', '$', '{', '}', '|', '/', '*', '+', '?', '()', 'a-b', 'b', 'aa', 'aaa', 'x', '1', '_', 'A', 'z', ':', '=', '.'],
      ...['\t', '\n', '\r', '\f', '\v', '\b', ' ', '\u00a0', '\u2003', '\ufeff', '\u00e9', 'e\u0301', '\u00e4', '\u0663', '\u{1F600}', '\u{1F600}\u{1F600}'],
    ];

    /** Runs the scope over every value in tenant_id and returns the values PostgreSQL lets through. */
    async function visible(patterns: readonly string[]): Promise<string[]> {
      const p = new Params();
      const values = p.add(VALUES);
      const scope = scopeCondition({ kind: 'constrained', constraints: { tenant_id: patterns } }, COLUMNS, p);
      const { rows } = await db.pool.query<{ tenant_id: string }>(
        `SELECT r.tenant_id FROM unnest(${values}::text[]) WITH ORDINALITY AS r(tenant_id, i) WHERE ${scope} ORDER BY r.i`,
        p.values,
      );
      return rows.map((r) => r.tenant_id);
    }

    /** Every construct access.json accepts (src/auth/pattern.ts), alone or combined. */
    const ACCEPTED = [
      ['acme'], ['acme|beta'], ['acme.*', 'globex'], ['prod[0-9]{1,1}'], ['a\\.b'], ['a.b'], ['a\\\\b'], ['[\\]x]'], ['(?:be)+ta'],
      ['^acme$'], ['(acme|beta)x?'], ['[^a-z]'], ['[-a]'], ['[a-]'], ['[a\\-z]'], ['[\\[]'], ['[\\^]'], ['\\^'], ['\\$'], ['\\/'],
      ['\\{\\}'], ['\\|'], ['\\*'], ['\\(\\)'], ['[*+?]'], ['\\t'], ['\\n'], ['\\r'], ['\\f'], ['\\v'], ['[\\t-\\r]'],
      ['\\u00e9'], ['[\\u0061-\\u0062]+'], ['\u00e9'], ['\u{1F600}+'], ['.'], ['.?'], ['a{2}'], ['a{2,}'], ['a{0}'], ['a{1,3}?'],
      ['x{255}'], ['()'], ['(?:)'], ['a|'], ['(?:)*'], ['[:=]'], ['(?:[a-z]|-)+'], ['.*a.*'], ['[^\\]]'], ['[.]'],
    ];

    it('compiles every accepted construct and agrees with valueAllowed on each value', async () => {
      for (const patterns of ACCEPTED) {
        for (const pattern of patterns) expect(patternProblem(pattern), pattern).to.equal(undefined);
        const access: Access = { kind: 'constrained', constraints: { tenant_id: patterns } };
        const expected = VALUES.filter((v) => valueAllowed(access, 'tenant_id', v));
        expect(await visible(patterns), JSON.stringify(patterns)).to.deep.equal(expected);
      }
    });

    it('reads each refused construct differently from JavaScript, or not at all: why access.json refuses them', async () => {
      const differs = async (pattern: string) => {
        const js = new RegExp(`^(?:${pattern})$`, 'su');
        const expected = VALUES.filter((v) => js.test(v));
        const actual = await visible([pattern]).catch((err: Error) => err.message);
        return JSON.stringify(actual) !== JSON.stringify(expected);
      };
      for (const pattern of ['[^]', '[]', 'a[]|.*', '[^]a|.*[]', '\\b', 'a\\B', '\\x61b', '\\s', '[^\\s]', '[a-c-e]', 'a{256}', '\\uD83D\\uDE00']) {
        expect(patternProblem(pattern), pattern).to.be.a('string');
        expect(await differs(pattern), pattern).to.equal(true);
      }
    });

    it('hides rows whose scoped field is NULL from a constrained user', async () => {
      const p = new Params();
      const scope = scopeCondition({ kind: 'constrained', constraints: { tenant_id: ['.*'] } }, COLUMNS, p);
      const { rowCount } = await db.pool.query(`SELECT 1 FROM (SELECT NULL::text AS tenant_id) AS r WHERE ${scope}`, p.values);
      expect(rowCount).to.equal(0);
    });
  });
});
