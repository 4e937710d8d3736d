/**
 * npm run refresh [-- <query or view name>...] [--force] [--rebuild]: runs a maintenance cycle of
 * each view now, through the same code path as the worker; --rebuild recomputes history from the
 * base tables (after a restore, or to repair). Exits 1 when any refresh failed.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { JIT_SETTING } from "../db/session-mode.js";
import { assertDirectSessions } from "../refresh/direct-session.js";
import { refreshViews } from "../refresh/refresh-view.js";
import { selectViews } from "../refresh/select.js";
import { requireDatabaseUrl, runCommand, warnAboutSettings } from "./run.js";
import { UsageError } from "../core/errors.js";
await runCommand('refresh', async (config) => {
    let args;
    try {
        args = parseArgs({ options: { force: { type: 'boolean', default: false }, rebuild: { type: 'boolean', default: false } }, allowPositionals: true });
    }
    catch (err) {
        throw new UsageError(`${err.message}\nusage: npm run refresh -- [--force] [--rebuild] [query-or-view ...]`);
    }
    const views = selectViews(args.positionals);
    const url = requireDatabaseUrl(config);
    await assertDirectSessions(url);
    await warnAboutSettings('refresh', url, 'refresh');
    const pool = new pg.Pool({ connectionString: url, max: 1, application_name: 'eventstats-refresh', options: `-c ${JIT_SETTING}` });
    try {
        const results = await refreshViews(pool, views, { ...config.refresh, force: args.values.force, rebuild: args.values.rebuild });
        for (const r of results) {
            const held = r.report?.heldBack ? `; ${r.report.heldBack} job ids held back for writer transactions still open` : '';
            const long = r.report?.longWriters?.length
                ? `; open longer than REFRESH_LONG_WRITER_MS: ${r.report.longWriters.map((w) => `pid ${w.pid ?? '?'} (${w.ageMs === null ? '?' : Math.round(w.ageMs / 1000)} s)`).join(', ')}`
                : '';
            process.stdout.write(`${r.view}: ${r.outcome} in ${r.durationMs} ms${r.error ? ` — ${r.error}` : ''}${held}${long}\n`);
        }
        return results.some((r) => r.outcome === 'failed') ? 1 : 0;
    }
    finally {
        await pool.end();
    }
});
//# sourceMappingURL=refresh.js.map