/**
 * npm run migration:query -- <query> [--dir DIR]: writes the migration that (re)builds a compiled
 * query's materialization from its declaration, as migrations/<timestamp>_query-<query>.sql. Commit
 * it; never edit it afterwards (a changed declaration gets a new one, which rebuilds the query once).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MIGRATIONS_DIR } from '../db/migrate.ts';
import { queryMigrationSql } from '../maintenance/ddl.ts';
import { SUPPORTED_QUERIES } from '../declarations/index.ts';
import { runCommand } from './run.ts';
import { UsageError } from '../core/errors.ts';

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
  const slug = name.replace(/_/g, '-');
  const source = `src/declarations/${slug}.ts`;
  const dir = args.values.dir ?? MIGRATIONS_DIR;
  // Undoing the new migration replays the previous one's Up section (src/maintenance/ddl.ts).
  const previous = readdirSync(dir)
    .filter((f) => f.endsWith(`_query-${slug}.sql`))
    .sort()
    .at(-1);
  const file = path.join(dir, `${Date.now()}_query-${slug}.sql`);
  const sql = queryMigrationSql(name, query.rollup, source, previous && readFileSync(path.join(dir, previous), 'utf8'));
  writeFileSync(file, sql, { flag: 'wx' });
  process.stdout.write(`${path.relative(process.cwd(), file)}\n`);
});
