import { expect } from 'chai';
import { valueAllowed, type Access, type ScopedField } from '../../../src/auth/acl.ts';
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

    const VALUES = ['acme', 'acme2', 'xacme', 'acme-za', 'beta', 'betax', 'globex', 'prod1', 'prod12', 'a.b', 'axb', 'a\nb', 'xy', 'ab', ']', 'a\\b', ''];

    /** Runs the scope over every value in tenant_id and returns the values PostgreSQL lets through. */
    async function visible(patterns: string[]): Promise<string[]> {
      const p = new Params();
      const values = p.add(VALUES);
      const scope = scopeCondition({ kind: 'constrained', constraints: { tenant_id: patterns } }, COLUMNS, p);
      const { rows } = await db.pool.query<{ tenant_id: string }>(
        `SELECT r.tenant_id FROM unnest(${values}::text[]) AS r(tenant_id) WHERE ${scope}`,
        p.values,
      );
      return rows.map((r) => r.tenant_id);
    }

    it('agrees with valueAllowed on the patterns both engines read alike', async () => {
      const cases = [['acme'], ['acme|beta'], ['acme.*', 'globex'], ['prod\\d{1,1}'], ['a\\.b'], ['a.b'], ['x(?=y)y'], ['(?<=a)b'], ['a\\\\b'], ['[\\]x]'], ['(?:be)+ta']];
      for (const patterns of cases) {
        const access: Access = { kind: 'constrained', constraints: { tenant_id: patterns } };
        const expected = VALUES.filter((v) => valueAllowed(access, 'tenant_id', v));
        expect(await visible(patterns), JSON.stringify(patterns)).to.deep.equal(expected);
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
