/**
 * `npm run seed -- --runs N [...]`: seeds the database at DATABASE_URL. Exit codes: 0 done,
 * 1 the database failed, 2 bad arguments or configuration.
 */
import { ConfigError, loadConfig } from "../core/config.js";
import { createPool } from "../db/pool.js";
import { DatabaseUnavailableError } from "../core/errors.js";
import { SEED_USAGE, parseSeedArgs } from "../seed/args.js";
import { UsageError } from "../core/errors.js";
import { AlreadySeededError, createProgressReporter, seed } from "../seed/index.js";
/** A batch takes well under a second; the limit only stops a wedged server from hanging the command. */
const SEED_STATEMENT_TIMEOUT_MS = 120_000;
const fail = (line) => process.stderr.write(`seed: ${line}\n`);
function messageOf(err) {
    // A refused connection to a name with several addresses is an AggregateError with an empty message.
    if (err instanceof AggregateError && err.errors.length > 0)
        return err.errors.map(messageOf).join('; ');
    const text = err instanceof Error ? err.message || String(err.code ?? err.name) : String(err);
    return text.replace(/\s+/g, ' ').trim();
}
function sqlstateOf(err) {
    for (let e = err; e instanceof Error; e = e.cause) {
        const code = e.code;
        if (typeof code === 'string')
            return code;
    }
    return undefined;
}
function describeSeedFailure(err) {
    if (err instanceof AlreadySeededError)
        return err.message;
    const code = sqlstateOf(err);
    if (code === '42P01')
        return `the source tables do not exist in this database (${messageOf(err)}); run \`npm run migrate\` first`;
    if (code === '23505')
        return `these rows are already in the database (${messageOf(err)}); this --seed and --end were seeded before, pick another`;
    if (err instanceof DatabaseUnavailableError)
        return `the database is unavailable: ${messageOf(err.cause ?? err)}`;
    return code ? `database error ${code}: ${messageOf(err)}` : messageOf(err);
}
async function run(command, config) {
    if (!config.databaseUrl) {
        fail('DATABASE_URL is not set: set it to the postgres:// URL of a migrated database, or use `npm start`, which seeds its embedded database');
        return 2;
    }
    const pool = createPool({
        connectionString: config.databaseUrl,
        max: 2,
        statementTimeoutMs: SEED_STATEMENT_TIMEOUT_MS,
        connectTimeoutMs: config.db.connectTimeoutMs,
        readOnly: false,
        applicationName: 'eventstats-seed',
    });
    const reporter = createProgressReporter(process.stderr);
    try {
        reporter.finish(await seed(pool, command.options, (p) => reporter.update(p)));
        return 0;
    }
    catch (err) {
        reporter.abort();
        fail(describeSeedFailure(err));
        return 1;
    }
    finally {
        await pool.end();
    }
}
async function main(argv) {
    let command;
    let config;
    try {
        command = parseSeedArgs(argv);
        if (command.help) {
            process.stdout.write(`${SEED_USAGE}\n`);
            return 0;
        }
        config = loadConfig();
    }
    catch (err) {
        if (err instanceof UsageError) {
            fail(`${err.message}\n${SEED_USAGE}`);
            return 2;
        }
        if (err instanceof ConfigError) {
            fail(err.message);
            return 2;
        }
        throw err;
    }
    return run(command, config);
}
main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
}, (err) => {
    fail(`unexpected failure: ${messageOf(err)}`);
    process.exitCode = 1;
});
//# sourceMappingURL=seed.js.map