import path from 'node:path';
import { runner } from 'node-pg-migrate';
/** migrations/ beside src/ (and beside dist/src/ after `npm run build`, which copies it). */
export const MIGRATIONS_DIR = path.join(import.meta.dirname, '../../migrations');
export const MIGRATIONS_TABLE = 'pgmigrations';
/** Applies every pending migration; a second run is a no-op. Returns the names it applied. */
export async function migrateUp(databaseUrl, log = () => { }) {
    const applied = await runner({
        databaseUrl,
        dir: MIGRATIONS_DIR,
        migrationsTable: MIGRATIONS_TABLE,
        direction: 'up',
        checkOrder: true,
        log,
        logger: { debug: () => { }, info: log, warn: log, error: log },
    });
    return applied.map((m) => m.name);
}
//# sourceMappingURL=migrate.js.map