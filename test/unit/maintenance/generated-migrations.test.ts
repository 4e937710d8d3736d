/**
 * Drift between each query's declaration and its generated migration: the newest
 * migrations/*_query-<name>.sql must be exactly what `npm run migration:query -- <name>` generates
 * from the declaration today. A declaration changed without a new migration fails here, by name.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS_DIR } from '../../../src/db/migrate.ts';
import { queryMigrationSql } from '../../../src/maintenance/ddl.ts';
import { relationsOf } from '../../../src/rollup/layout.ts';
import { SUPPORTED_QUERIES } from '../../../src/declarations/index.ts';

describe('generated query migrations', () => {
  const files = readdirSync(MIGRATIONS_DIR).sort();

  for (const q of SUPPORTED_QUERIES) {
    const slug = q.name.replace(/_/g, '-');
    it(`${q.name}: its newest generated migration matches its declaration`, () => {
      const mine = files.filter((f) => f.endsWith(`_query-${slug}.sql`));
      expect(mine, `${q.name} has no generated migration: run \`npm run migration:query -- ${q.name}\``).to.have.length.greaterThan(0);
      const newest = mine.at(-1)!;
      const text = readFileSync(path.join(MIGRATIONS_DIR, newest), 'utf8');
      const before = mine.at(-2);
      const previous = before === undefined ? undefined : readFileSync(path.join(MIGRATIONS_DIR, before), 'utf8');
      // The declaration's file as the migration names it: history keeps the path it was generated from.
      const source = /\(([^()\s]+\.ts)\)\. Never edit it/.exec(text)?.[1] ?? `src/declarations/${slug}.ts`;
      expect(
        text === queryMigrationSql(q.name, q.rollup, source, previous),
        `${newest} no longer matches the declaration of ${q.name}: run \`npm run migration:query -- ${q.name}\` (never edit a landed migration)`,
      ).to.equal(true);
    });
  }

  it('names every relation after the query, in the eventstats schema', () => {
    for (const q of SUPPORTED_QUERIES) {
      const r = relationsOf(q.rollup);
      const base = q.rollup.view.replace('eventstats.mv_', '');
      expect(r).to.deep.equal({ view: q.rollup.view, history: `eventstats.${base}_history`, buckets: `eventstats.${base}_buckets` });
    }
  });
});
