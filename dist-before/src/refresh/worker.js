/**
 * The refresh worker: every registered view gets a pg-boss queue, a schedule on its cron, and a
 * handler that runs refreshView. Any number of workers may share a database: the queue policy runs
 * one refresh per view at a time across all of them, and refreshView's advisory lock backs that up
 * against the CLI. start() and stop() mirror each other; jobs/worker.ts and the all-in-one server
 * only wire it.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { createExecutor } from "../db/executor.js";
import { JIT_SETTING } from "../db/session-mode.js";
import { checkServerSettings } from "../db/server-settings.js";
import { readFreshness } from "../rollup/refresh-log.js";
import { refreshMetrics } from "../metrics/refresh.js";
import { watchPool } from "../metrics/registry.js";
import { registeredViews } from "../declarations/index.js";
import { assertDirectSessions } from "./direct-session.js";
import { refreshView } from "./refresh-view.js";
import { selectViews } from "./select.js";
import { settlesWithin } from "../core/time-limit.js";
import { DEFAULT_RETRY, REFRESH_QUEUE_POLICY } from "./queues.js";
import { isRefreshQueue, PGBOSS_SCHEMA } from "../db/tables.js";
import { resolveSchedules } from "./schedules.js";
/** The database is not ready for the worker; the message says what to run. */
export class WorkerSetupError extends Error {
    name = 'WorkerSetupError';
}
/** Thrown from a job so that pg-boss records the failure and retries the job. */
export class RefreshFailedError extends Error {
    result;
    name = 'RefreshFailedError';
    constructor(result) {
        super(`refresh of ${result.view} failed: ${result.error ?? 'unknown error'}`);
        this.result = result;
    }
}
const DEFAULT_POLLING_INTERVAL_SECONDS = 2;
// pg-boss's pollers, cron and maintenance share these connections; each holds one only per statement.
const BOSS_POOL_MAX = 4;
// pg-boss fails a job whose handler outlives its expiry (and aborts its signal, which cancels the
// REFRESH), and a retry would then find the view still locked by the first run. The expiry therefore
// covers the refresh's statement timeout plus its bookkeeping statements (see refresh-view.ts).
const EXPIRY_MARGIN_SECONDS = 120;
// A running refresh job proves its worker alive every HEARTBEAT_SECONDS / 2 (pg-boss's heartbeat,
// 10 s being its least). A worker that dies (SIGKILL, a lost host) stops proving it, and the
// supervisor of any worker then fails the job, which is retried by whichever worker polls next:
// within HEARTBEAT_SECONDS + SUPERVISE_SECONDS + the retry delay, rather than at the job's expiry
// (statement timeout + margin: 12 minutes by default). Its database session ends by itself
// (client_connection_check_interval, src/refresh/refresh-view.ts) and releases the view's lock.
const HEARTBEAT_SECONDS = 10;
const SUPERVISE_SECONDS = 15;
// After the stop timeout, how long to wait for cancelled refreshes to record their failure.
const CANCEL_GRACE_MS = 5_000;
const installedCheck = () => ({ text: 'SELECT to_regclass($1) IS NOT NULL AS installed', values: [`${PGBOSS_SCHEMA}.version`] });
const existingQueues = (names) => ({ text: `SELECT name, policy FROM ${PGBOSS_SCHEMA}.queue WHERE name = ANY($1::text[])`, values: [names] });
/** Fails with a message naming the migration when pg-boss or a view's queue is missing. */
async function checkDatabase(db, schedules) {
    const [installed] = await db.query(installedCheck());
    if (!installed?.installed) {
        throw new WorkerSetupError(`pg-boss is not installed in this database (schema ${PGBOSS_SCHEMA}); run \`npm run migrate\``);
    }
    const wanted = schedules.map((s) => s.queue);
    const found = new Map((await db.query(existingQueues(wanted))).map((r) => [r.name, r.policy]));
    const missing = wanted.filter((q) => !found.has(q));
    if (missing.length) {
        throw new WorkerSetupError(`no pg-boss queue for ${missing.join(', ')}: the migration that adds a view creates its queue ` +
            '(see migrations/1764000005000_pgboss-12.sql); run `npm run migrate`');
    }
    // pg-boss sets a queue's policy only when it creates the queue; coalescing depends on it.
    const wrong = wanted.filter((q) => found.get(q) !== REFRESH_QUEUE_POLICY);
    if (wrong.length) {
        throw new WorkerSetupError(`the pg-boss queue(s) ${wrong.join(', ')} must have the '${REFRESH_QUEUE_POLICY}' policy; recreate them with the migration that adds them`);
    }
}
/**
 * Ends a pool once its connections have closed. pool.end() alone resolves as soon as every client is
 * told to end, before the sockets close, and a database stopped right after (the all-in-one mode
 * stops its embedded server next) would terminate them mid-close and log errors.
 */
function endPool(pool) {
    let open = pool.totalCount;
    const closed = new Promise((resolve) => {
        if (open === 0)
            resolve();
        pool.on('remove', () => {
            if (--open <= 0)
                resolve();
        });
    });
    return Promise.all([pool.end(), closed]).then(() => undefined);
}
export function createWorker(deps) {
    const log = deps.log.child({ component: 'refresh-worker' });
    const retry = deps.retry ?? DEFAULT_RETRY;
    const pollingIntervalSeconds = deps.pollingIntervalSeconds ?? DEFAULT_POLLING_INTERVAL_SECONDS;
    // Unique per worker, so that an operator can tell its sessions apart in pg_stat_activity.
    const applicationName = `eventstats-worker-${randomUUID().slice(0, 8)}`;
    const running = new Set();
    let boss;
    let refreshPool;
    let schedules = [];
    let stopping = false;
    let started = false;
    const views = registeredViews().map((v) => v.name);
    const metrics = deps.metrics &&
        refreshMetrics(deps.metrics, {
            views,
            log,
            // Read at each scrape, and only from a started worker: pg-boss's counts from its queue table, and
            // the refresh log through the refresh pool, which keeps a connection for scrapes (see start()).
            async queues() {
                const b = boss;
                if (!b || !started)
                    return [];
                const found = await b.getQueues(schedules.map((s) => s.queue));
                return found.map((q) => ({ queue: q.name, counts: { ready: q.readyCount, deferred: q.deferredCount, active: q.activeCount, failed: q.failedCount } }));
            },
            async freshness() {
                const pool = refreshPool;
                if (!pool || !started)
                    return undefined;
                return readFreshness(createExecutor(pool, 0), views);
            },
        });
    if (deps.metrics)
        watchPool(deps.metrics, 'refresh', () => refreshPool);
    async function work(schedule, pool, jobs) {
        const job = jobs[0]; // batchSize 1
        if (!job)
            return undefined;
        // A poll already under way when stop() began can still hand over a job: it goes back for a retry.
        if (stopping)
            throw new Error('the refresh worker is stopping');
        const fields = { view: schedule.view.name, job: job.id };
        const t0 = performance.now();
        const attempt = refreshView(pool, schedule.view, {
            statementTimeoutMs: deps.refresh.statementTimeoutMs,
            lockTimeoutMs: deps.refresh.lockTimeoutMs,
            longWriterMs: deps.refresh.longWriterMs,
            force: job.data?.force === true,
            // pg-boss aborts it when this worker stops past its grace period or loses the job (expiry).
            signal: job.signal,
        });
        running.add(attempt);
        let result;
        try {
            result = await attempt;
        }
        catch (err) {
            metrics?.observe({ view: schedule.view.name, outcome: 'failed', durationMs: performance.now() - t0 });
            // pg-boss keeps a handler's error in the job row only; the log is where operators look.
            log.warn({ ...fields, err }, 'view refresh failed');
            throw err;
        }
        finally {
            running.delete(attempt);
        }
        metrics?.observe(result);
        const summary = { ...fields, outcome: result.outcome, durationMs: result.durationMs, concurrently: result.concurrently };
        if (result.outcome === 'failed') {
            log.warn({ ...summary, error: result.error }, 'view refresh failed');
            throw new RefreshFailedError(result);
        }
        log.info(summary, 'view refresh');
        const longWriters = result.report?.longWriters ?? [];
        if (longWriters.length) {
            // Named so that an operator can act; EventStats holds back their ids and never ends them.
            log.warn({ view: schedule.view.name, longWriters, heldBack: result.report?.heldBack, limitMs: deps.refresh.longWriterMs }, 'writer transactions on the jobs table open longer than REFRESH_LONG_WRITER_MS (pid, ageMs): their rows are counted once they commit');
        }
        // Stored as the job's output.
        return result;
    }
    async function stop() {
        stopping = true;
        const b = boss;
        const pool = refreshPool;
        boss = undefined;
        refreshPool = undefined;
        if (b) {
            // Polling stops at once; running handlers get up to the timeout, after which pg-boss fails
            // their jobs so that another worker retries them.
            await b.stop({ graceful: true, timeout: deps.refresh.stopTimeoutMs }).catch((err) => log.error({ err }, 'pg-boss did not stop cleanly'));
        }
        if (!pool)
            return;
        if (running.size) {
            // Still running after the timeout: pg-boss has failed their jobs (another worker retries them)
            // and aborted their signals, which cancels each REFRESH. A cancelled REFRESH leaves the view as
            // it was and is logged 'failed'; then its connection is free and the pool can close.
            log.warn({ running: running.size }, 'cancelled refreshes still running at the stop timeout');
            await settlesWithin(Promise.allSettled(running), CANCEL_GRACE_MS);
        }
        if (!(await settlesWithin(endPool(pool), CANCEL_GRACE_MS)))
            log.error('refresh connections did not close; leaving them to the process exit');
        if (started)
            log.info('refresh worker stopped');
        started = false;
    }
    return {
        async start() {
            if (boss)
                return;
            // Before any connection: a bad schedule is a configuration error, not a database one.
            const resolved = resolveSchedules(registeredViews(), deps.refresh.schedules);
            // Before any connection of its own: behind a transaction-mode pooler the refresh's single-flight
            // lock would not hold (src/refresh/direct-session.ts).
            await assertDirectSessions(deps.databaseUrl);
            stopping = false;
            schedules = resolved;
            // One connection per view's refresh, plus one for the worker's own statements and for
            // cancelling a refresh whose job was aborted (refresh-view.ts), and one for the metrics'
            // scrapes, so that a scrape never holds the connection a cancel needs.
            // JIT off for the worker's own statements too (the metrics' freshness reads, the start-up checks);
            // a refresh sets it again for its cycle (src/refresh/refresh-view.ts). The worker's sessions are
            // direct (checked above), so the startup packet carries it.
            const pool = new pg.Pool({ connectionString: deps.databaseUrl, max: resolved.length + (metrics ? 2 : 1), application_name: applicationName, options: `-c ${JIT_SETTING}` });
            pool.on('error', (err) => log.warn({ err }, 'idle refresh connection failed'));
            refreshPool = pool;
            const b = new PgBoss({
                connectionString: deps.databaseUrl,
                schema: PGBOSS_SCHEMA,
                application_name: `${applicationName}-boss`,
                max: BOSS_POOL_MAX,
                superviseIntervalSeconds: SUPERVISE_SECONDS,
                monitorIntervalSeconds: SUPERVISE_SECONDS,
                // The schema and the queues are migrations: pg-boss only checks the schema version, and
                // this worker needs no DDL.
                migrate: false,
            });
            // Errors of pg-boss's background loops (polling, cron, maintenance) arrive here; without a
            // listener an 'error' event would end the process. Once stopping, they are its connections
            // closing (pg-boss does not wait for their sockets), which is expected.
            b.on('error', (err) => (stopping ? log.debug({ err }, 'pg-boss error while stopping') : log.error({ err }, 'pg-boss error')));
            boss = b;
            try {
                const executor = createExecutor(pool, 0);
                await checkDatabase(executor, resolved);
                for (const warning of await checkServerSettings((q) => executor.query(q), 'worker'))
                    log.warn(warning);
                await b.start();
                const expireInSeconds = Math.ceil(deps.refresh.statementTimeoutMs / 1000) + EXPIRY_MARGIN_SECONDS;
                for (const s of resolved) {
                    // Plain UPDATEs of pgboss.queue: the settings live here, in code, not in the migration.
                    // The policy is fixed when a queue is created (by its migration) and checked above.
                    await b.updateQueue(s.queue, {
                        retryLimit: retry.limit,
                        retryDelay: retry.delaySeconds,
                        retryBackoff: retry.backoff,
                        expireInSeconds,
                        heartbeatSeconds: HEARTBEAT_SECONDS,
                    });
                }
                // A view dropped from the registry must not keep firing jobs that no worker takes.
                const wanted = new Set(resolved.map((s) => s.queue));
                for (const old of await b.getSchedules()) {
                    if (isRefreshQueue(old.name) && !wanted.has(old.name))
                        await b.unschedule(old.name);
                }
                for (const s of resolved) {
                    // The view as singletonKey puts scheduled and triggered jobs of a view under one key of the policy.
                    await b.schedule(s.queue, s.cron, {}, { tz: 'UTC', singletonKey: s.view.name });
                }
                for (const s of resolved) {
                    await b.work(s.queue, { pollingIntervalSeconds, batchSize: 1 }, (jobs) => work(s, pool, jobs));
                }
            }
            catch (err) {
                await stop();
                throw err;
            }
            started = true;
            log.info({ schedules: resolved.map((s) => ({ view: s.view.name, cron: s.cron, overridden: s.overridden })) }, 'refresh worker started');
        },
        stop,
        async trigger(view, options = {}) {
            const b = boss;
            if (!b || stopping)
                throw new Error('the refresh worker is not running');
            const [target] = selectViews([view]);
            const schedule = schedules.find((s) => s.view.name === target?.name);
            if (!schedule)
                throw new Error(`view ${view} has no refresh queue`);
            const data = { force: options.force === true };
            return b.send(schedule.queue, data, { singletonKey: schedule.view.name });
        },
    };
}
//# sourceMappingURL=worker.js.map