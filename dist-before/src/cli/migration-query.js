/**
 * npm run migration:query -- <query> [--dir DIR]: writes the migration that (re)builds a compiled
 * query's materialization from its declaration, as migrations/<timestamp>_query-<view>.sql (a view
 * that several queries share, src/declarations/job-facts.ts, is named by its own name, job_facts, or
 * by any of its queries). Commit it; never edit it afterwards (a changed declaration gets a new one,
 * which rebuilds the view once).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MIGRATIONS_DIR } from "../db/migrate.js";
import { queryMigrationSql } from "../maintenance/ddl.js";
import { generatedView, sharedViewNames, SUPPORTED_QUERIES } from "../declarations/index.js";
import { runCommand } from "./run.js";
import { UsageError } from "../core/errors.js";
const USAGE = 'usage: npm run migration:query -- <query> [--dir DIR]';
await runCommand('migration:query', async () => {
    let args;
    try {
        args = parseArgs({ options: { dir: { type: 'string' } }, allowPositionals: true });
    }
    catch (err) {
        throw new UsageError(`${err.message}\n${USAGE}`);
    }
    const [name, ...extra] = args.positionals;
    if (!name || extra.length)
        throw new UsageError(`name exactly one query\n${USAGE}`);
    const target = generatedView(name);
    if (!target)
        throw new UsageError(`unknown query '${name}'; registered: ${SUPPORTED_QUERIES.map((q) => q.name).join(', ')} (shared views: ${sharedViewNames().join(', ')})`);
    const dir = args.values.dir ?? MIGRATIONS_DIR;
    // Undoing the new migration replays the previous one's Up section (src/maintenance/ddl.ts).
    const previous = readdirSync(dir)
        .filter((f) => f.endsWith(`_query-${target.slug}.sql`))
        .sort()
        .at(-1);
    const file = path.join(dir, `${Date.now()}_query-${target.slug}.sql`);
    const sql = queryMigrationSql(target.name, target.spec, target.source, previous && readFileSync(path.join(dir, previous), 'utf8'));
    writeFileSync(file, sql, { flag: 'wx' });
    process.stdout.write(`${path.relative(process.cwd(), file)}\n`);
});
//# sourceMappingURL=migration-query.js.map