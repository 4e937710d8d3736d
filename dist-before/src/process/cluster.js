/**
 * WEB_CONCURRENCY > 1: the primary process forks that many API processes (node:cluster), which
 * share PORT, and only supervises them. A process that dies is forked again after a backoff; one
 * that dies before it ever listened stops the start (a bad DATABASE_URL would otherwise restart
 * forever). stop() sends SIGTERM to every process, which drains and ends its pool as a single
 * server does, and waits for them all. If the primary itself dies, Node ends each worker as soon as
 * its IPC channel closes, so no API process outlives it.
 */
import cluster, {} from 'node:cluster';
import { settlesWithin } from "../core/time-limit.js";
export const SUPERVISOR = Object.freeze({
    /** First restart delay after a process died; doubled for each death in a row, up to maxRestartDelayMs. */
    restartDelayMs: 1_000,
    maxRestartDelayMs: 30_000,
    /** A process that served this long resets the backoff: its death was not part of a crash loop. */
    healthyAfterMs: 60_000,
    /** How long stop() waits for a draining process before SIGKILL (requests are bounded well below it). */
    stopLimitMs: 30_000,
});
function exitOf(worker) {
    return worker.process.exitCode !== null || worker.process.signalCode !== null
        ? Promise.resolve()
        : new Promise((resolve) => worker.process.once('exit', () => resolve()));
}
export function superviseApiProcesses(options) {
    const t = { ...SUPERVISOR, ...options.timings };
    const { log } = options;
    const workers = new Set();
    const restarts = new Set();
    let stopping;
    let started = false;
    let deathsInARow = 0;
    function fork() {
        const worker = cluster.fork();
        const forkedAt = Date.now();
        workers.add(worker);
        let listened = false;
        const listening = new Promise((resolve, reject) => {
            worker.once('listening', () => {
                listened = true;
                resolve();
            });
            worker.once('exit', (code, signal) => {
                workers.delete(worker);
                if (!listened)
                    reject(new Error(`API process ${worker.process.pid} exited (${signal ?? `code ${code}`}) before it listened`));
                if (stopping || !started)
                    return;
                deathsInARow = Date.now() - forkedAt >= t.healthyAfterMs ? 1 : deathsInARow + 1;
                const delayMs = Math.min(t.maxRestartDelayMs, t.restartDelayMs * 2 ** (deathsInARow - 1));
                log.error({ pid: worker.process.pid, code, signal, restartInMs: delayMs, alive: workers.size }, 'an API process died; starting another');
                const timer = setTimeout(() => {
                    restarts.delete(timer);
                    if (stopping)
                        return;
                    // A replacement that cannot start (the database is away) dies and is retried with a longer delay.
                    fork().listening.catch(() => { });
                }, delayMs);
                restarts.add(timer);
            });
        });
        return { worker, listening };
    }
    return {
        async start() {
            const forked = Array.from({ length: options.processes }, fork);
            try {
                await Promise.all(forked.map((f) => f.listening));
            }
            catch (err) {
                await this.stop();
                throw err;
            }
            started = true;
        },
        stop() {
            stopping ??= (async () => {
                for (const timer of restarts)
                    clearTimeout(timer);
                restarts.clear();
                const all = [...workers];
                for (const w of all)
                    w.process.kill('SIGTERM');
                const exited = Promise.all(all.map(exitOf));
                if (!(await settlesWithin(exited, t.stopLimitMs))) {
                    const left = all.filter((w) => w.process.exitCode === null && w.process.signalCode === null);
                    log.warn({ pids: left.map((w) => w.process.pid) }, 'API processes still draining at the stop limit; killing them');
                    for (const w of left)
                        w.process.kill('SIGKILL');
                    await exited;
                }
            })();
            return stopping;
        },
        pids: () => [...workers].map((w) => w.process.pid).filter((p) => p !== undefined),
    };
}
//# sourceMappingURL=cluster.js.map