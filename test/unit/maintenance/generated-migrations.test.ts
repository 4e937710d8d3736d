/**
 * Drift between each view's declaration and its generated migration: the newest
 * migrations/*_query-<view>.sql must be exactly what `npm run migration:query -- <view>` generates
 * from the declaration today. A declaration changed without a new migration fails here, by name.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS_DIR } from '../../../src/db/migrate.ts';
import { queryMigrationSql } from '../../../src/maintenance/ddl.ts';
import { relationsOf, viewBaseName } from '../../../src/rollup/layout.ts';
import { generatedView, registeredViews, SUPPORTED_QUERIES } from '../../../src/declarations/index.ts';
import { storedSpec } from '../../../src/rollup/spec.ts';

describe('generated query migrations', () => {
  const files = readdirSync(MIGRATIONS_DIR).sort();

  for (const view of registeredViews()) {
    const target = generatedView(viewBaseName(view.name))!;
    it(`${target.name}: its newest generated migration matches its declaration`, () => {
      const mine = files.filter((f) => f.endsWith(`_query-${target.slug}.sql`));
      expect(mine, `${target.name} has no generated migration: run \`npm run migration:query -- ${target.name}\``).to.have.length.greaterThan(0);
      const newest = mine.at(-1)!;
      const text = readFileSync(path.join(MIGRATIONS_DIR, newest), 'utf8');
      const before = mine.at(-2);
      const previous = before === undefined ? undefined : readFileSync(path.join(MIGRATIONS_DIR, before), 'utf8');
      // The declaration's file as the migration names it: history keeps the path it was generated from.
      const source = /\(([^()\s]+\.ts)\)\. Never edit it/.exec(text)?.[1] ?? target.source;
      expect(
        text === queryMigrationSql(target.name, target.spec, source, previous),
        `${newest} no longer matches the declaration of ${target.name}: run \`npm run migration:query -- ${target.name}\` (never edit a landed migration)`,
      ).to.equal(true);
    });
  }

  it("generates a query's migration for the view it reads: a shared view's once, by its name or any of its queries'", () => {
    for (const q of SUPPORTED_QUERIES) {
      const target = generatedView(q.name)!;
      expect(target.spec, q.name).to.equal(storedSpec(q.rollup));
      expect(generatedView(target.name)!.spec, q.name).to.equal(target.spec);
    }
    expect(generatedView('failed_jobs')!.name).to.equal('job_facts');
    expect(generatedView('run_status_summary')!.name).to.equal('run_status_summary');
  });

  it('names every relation after the view, in the eventstats schema', () => {
    for (const q of SUPPORTED_QUERIES) {
      const r = relationsOf(q.rollup);
      const base = q.rollup.view.replace('eventstats.mv_', '');
      expect(r).to.deep.equal({ view: q.rollup.view, history: `eventstats.${base}_history`, buckets: `eventstats.${base}_buckets` });
    }
  });
});
