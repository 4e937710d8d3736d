/** Shared by the commands: one clear line on stderr and an exit code, never a stack trace for expected failures. */
import { ConfigError, loadConfig } from "../core/config.js";
import { AppError, UsageError } from "../core/errors.js";
import pg from 'pg';
import { mapPgError } from "../db/pg-errors.js";
import { checkServerSettings } from "../db/server-settings.js";
export function describeFailure(err) {
    const mapped = mapPgError(err, 0);
    if (mapped instanceof AppError) {
        const cause = mapped.cause?.message;
        return cause ? `${mapped.message} (${cause})` : mapped.message;
    }
    if (err instanceof AggregateError && err.errors.length)
        return describeFailure(err.errors[0]);
    return err instanceof Error ? err.message : String(err);
}
/** Runs a command: exit 2 for usage and configuration errors, 1 for failures, the command's own code otherwise. */
export async function runCommand(name, main) {
    try {
        const code = await main(loadConfig());
        process.exitCode = code ?? 0;
    }
    catch (err) {
        const usage = err instanceof UsageError || err instanceof ConfigError;
        process.stderr.write(`${name}: ${describeFailure(err)}\n`);
        process.exitCode = usage ? 2 : 1;
    }
}
/** The server-settings warnings for a command (src/db/server-settings.ts), one `name: warning: …` line each on stderr. */
export async function warnAboutSettings(name, url, user) {
    const client = new pg.Client({ connectionString: url, application_name: `eventstats-${name}` });
    await client.connect();
    try {
        for (const w of await checkServerSettings(async (q) => (await client.query(q.text, q.values)).rows, user)) {
            process.stderr.write(`${name}: warning: ${w}\n`);
        }
    }
    finally {
        await client.end();
    }
}
export function requireDatabaseUrl(config) {
    if (!config.databaseUrl)
        throw new UsageError('DATABASE_URL is not set (npm start runs its own embedded PostgreSQL instead)');
    return config.databaseUrl;
}
//# sourceMappingURL=run.js.map