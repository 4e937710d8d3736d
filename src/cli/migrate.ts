/** npm run migrate: applies pending migrations to DATABASE_URL (a deploy step; a second run is a no-op). */
import { migrateUp } from '../db/migrate.ts';
import { requireDatabaseUrl, runCommand } from './run.ts';

await runCommand('migrate', async (config) => {
  const applied = await migrateUp(requireDatabaseUrl(config));
  process.stdout.write(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}\n` : 'no pending migrations\n');
});
