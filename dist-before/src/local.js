/**
 * The all-in-one mode's database: an embedded PostgreSQL under DATA_DIR, migrated, filled with demo
 * data the first time, and refreshed so the demo answers at once.
 */
import path from 'node:path';
import pg from 'pg';
import { EmbeddedDatabase } from "./db/embedded.js";
import { migrateUp } from "./db/migrate.js";
import { TABLES } from "./db/tables.js";
import { registeredViews } from "./declarations/index.js";
import { refreshViews } from "./refresh/refresh-view.js";
import { seed } from "./seed/index.js";
export async function startLocalDatabase(config, log) {
    const embedded = new EmbeddedDatabase({
        dir: path.join(config.dataDir, 'pg'),
        port: config.embeddedPgPort,
        persistent: true,
        database: 'eventstats',
        onLog: (line) => log.trace({ postgres: line.trim() }),
    });
    const url = await embedded.start();
    try {
        const applied = await migrateUp(url);
        if (applied.length)
            log.info({ applied }, 'migrations applied');
        const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'eventstats-local' });
        try {
            const { rows } = await pool.query(`SELECT EXISTS (SELECT 1 FROM ${TABLES.runsJobs}) AS seeded`);
            if (!rows[0]?.seeded && config.demoRuns > 0) {
                log.info({ runs: config.demoRuns }, 'first start: seeding demo data');
                const result = await seed(pool, { runs: config.demoRuns });
                log.info({ ...result }, 'demo data seeded');
            }
            const refreshed = await refreshViews(pool, registeredViews(), config.refresh);
            log.info({ views: refreshed.map((r) => `${r.view}: ${r.outcome}`) }, 'views refreshed');
        }
        finally {
            await pool.end();
        }
    }
    catch (err) {
        await embedded.stop();
        throw err;
    }
    return { url, stop: () => embedded.stop() };
}
//# sourceMappingURL=local.js.map