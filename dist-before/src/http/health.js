import { Router } from 'express';
/**
 * The database answers. /health has no auth, so a failure says only that: the server's own words
 * (which may name a role, a host or a database) go to the log.
 */
export function databaseCheck(executor, log) {
    return async () => {
        try {
            await executor.query({ text: 'SELECT 1', values: [] });
            return { ok: true, detail: 'ok' };
        }
        catch (err) {
            log?.warn({ err }, 'health: the database check failed');
            return { ok: false, detail: 'unavailable' };
        }
    };
}
/** How long one run of the checks answers /health: anyone may call it, so its queries run at most once a second. */
export const HEALTH_CACHE_MS = 1_000;
/**
 * GET /health, without auth: 200 when every check passes, else 503 naming the failing checks. The
 * checks run at most once per `cacheMs`; callers in between (and during a run) get that run's result.
 */
export function healthRoutes(checks, retryAfterSeconds, cacheMs = HEALTH_CACHE_MS, now = Date.now) {
    const router = Router();
    const names = Object.keys(checks);
    let last;
    const run = () => {
        const t = now();
        if (last === undefined || t - last.at >= cacheMs || t < last.at)
            last = { at: t, results: Promise.all(names.map((n) => checks[n]())) };
        return last.results;
    };
    router.get('/health', async (_req, res) => {
        const results = await run();
        const report = Object.fromEntries(names.map((n, i) => [n, results[i].detail]));
        const failing = names.filter((_, i) => !results[i].ok);
        if (failing.length === 0) {
            res.status(200).json({ success: true, statusCode: 200, status: 'ok', checks: report });
            return;
        }
        res.setHeader('Retry-After', String(retryAfterSeconds));
        res.status(503).json({
            success: false,
            statusCode: 503,
            status: failing.includes('database') ? 'unavailable' : 'degraded',
            checks: report,
            errors: failing.map((n) => ({ type: n, message: `health check '${n}' failed` })),
        });
    });
    return router;
}
//# sourceMappingURL=health.js.map