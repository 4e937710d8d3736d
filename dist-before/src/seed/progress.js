/** Redrawing faster than the eye reads only costs terminal time. */
export const PROGRESS_INTERVAL_MS = 250;
const count = (n) => Math.round(n).toLocaleString('en-US');
export function formatDuration(ms) {
    const s = ms / 1000;
    if (s < 10)
        return `${s.toFixed(1)} s`;
    if (s < 60)
        return `${Math.round(s)} s`;
    const whole = Math.round(s);
    if (whole < 3600)
        return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
    const minutes = Math.round(whole / 60);
    return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
function rate(rows, ms) {
    return ms > 0 ? `${count((rows * 1000) / ms)} rows/s` : '- rows/s';
}
/** e.g. `seeding: 412,345 rows, runs 80,000 of 200,000 (40%), 95,120 rows/s, about 12 s left` */
export function formatProgress(p) {
    const rows = p.runs + p.jobs + p.statusRows;
    const total = p.totalRuns + p.totalStatusRows;
    // Runs and status rows are known in advance; jobs are not, so the fraction counts the former.
    const done = total > 0 ? (p.runs + p.statusRows) / total : 1;
    const left = done > 0 ? (p.elapsedMs * (1 - done)) / done : undefined;
    const eta = left === undefined ? 'time left unknown' : `about ${formatDuration(left)} left`;
    return `seeding: ${count(rows)} rows, runs ${count(p.runs)} of ${count(p.totalRuns)} (${Math.floor(done * 100)}%), ${rate(rows, p.elapsedMs)}, ${eta}`;
}
/** e.g. `seeded 200,000 runs, 1,000,512 jobs, 200,000 status rows (1,400,512 rows) in 14.2 s, 98,627 rows/s; seed 42, window ...` */
export function formatSummary(r) {
    const rows = r.runs + r.jobs + r.statusRows;
    const window = `${new Date(r.windowStart).toISOString()} to ${new Date(r.windowEnd).toISOString()}`;
    return (`seeded ${count(r.runs)} runs, ${count(r.jobs)} jobs, ${count(r.statusRows)} status rows (${count(rows)} rows) ` +
        `in ${formatDuration(r.ms)}, ${rate(rows, r.ms)}; seed ${r.seed}, window ${window}`);
}
/** On a terminal, redraws one line at most every `intervalMs`; elsewhere stays silent until finish(). */
export function createProgressReporter(sink, options = {}) {
    const interval = options.intervalMs ?? PROGRESS_INTERVAL_MS;
    const now = options.now ?? (() => performance.now());
    let lastDraw = -Infinity;
    let drawn = false;
    return {
        update(p) {
            if (!sink.isTTY)
                return;
            const t = now();
            if (t - lastDraw < interval)
                return;
            lastDraw = t;
            // \r returns to the line start, ESC[K clears what a longer previous line left behind.
            sink.write(`\r${formatProgress(p)}\x1b[K`);
            drawn = true;
        },
        finish(r) {
            sink.write(`${drawn ? '\r\x1b[K' : ''}${formatSummary(r)}\n`);
            drawn = false;
        },
        abort() {
            if (drawn)
                sink.write('\n');
            drawn = false;
        },
    };
}
//# sourceMappingURL=progress.js.map