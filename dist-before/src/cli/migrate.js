/** npm run migrate: applies pending migrations to DATABASE_URL (a deploy step; a second run is a no-op). */
import { migrateUp } from "../db/migrate.js";
import { requireDatabaseUrl, runCommand, warnAboutSettings } from "./run.js";
await runCommand('migrate', async (config) => {
    const url = requireDatabaseUrl(config);
    await warnAboutSettings('migrate', url, 'migrate');
    const applied = await migrateUp(url);
    process.stdout.write(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}\n` : 'no pending migrations\n');
});
//# sourceMappingURL=migrate.js.map