/**
 * npm run migration:query -- <query> [--dir DIR]: writes the migration that (re)builds a compiled
 * query's materialization from its declaration, as migrations/<timestamp>_query-<query>.sql. Commit
 * it; never edit it afterwards (a changed declaration gets a new one, which rebuilds the query once).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MIGRATIONS_DIR } from '../db/migrate.ts';
import { queryMigrationSql } from '../maintenance/ddl.ts';
import { SUPPORTED_QUERIES } from '../queries/index.ts';
import { runCommand, UsageError } from './run.ts';

const USAGE = 'usage: npm run migration:query -- <query> [--dir DIR]';

await runCommand('migration:query', async () => {
  let args;
  try {
    args = parseArgs({ options: { dir: { type: 'string' } }, allowPositionals: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const [name, ...extra] = args.positionals;
  if (!name || extra.length) throw new UsageError(`name exactly one query\n${USAGE}`);
  const query = SUPPORTED_QUERIES.find((q) => q.name === name);
  if (!query) throw new UsageError(`unknown query '${name}'; registered: ${SUPPORTED_QUERIES.map((q) => q.name).join(', ')}`);
  const source = `src/queries/${name.replace(/_/g, '-')}.ts`;
  const file = path.join(args.values.dir ?? MIGRATIONS_DIR, `${Date.now()}_query-${name.replace(/_/g, '-')}.sql`);
  writeFileSync(file, queryMigrationSql(name, query.rollup, source), { flag: 'wx' });
  process.stdout.write(`${path.relative(process.cwd(), file)}\n`);
});
