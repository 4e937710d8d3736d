/**
 * Cron schedules, read one way everywhere: 5 fields (pg-boss evaluates schedules once a minute and
 * takes no seconds field), in UTC. Used to check a schedule (configuration, the worker), to bound an
 * answer's Cache-Control (the next firing) and to judge a view's freshness (the interval).
 */
import { CronExpressionParser } from 'cron-parser';
const CRON_FIELDS = 5;
const parse = (cron, from) => CronExpressionParser.parse(cron, { currentDate: from === undefined ? undefined : new Date(from), tz: 'UTC' });
/** The rule a refresh schedule breaks, or undefined for a valid 5-field cron expression. */
export function cronProblem(cron) {
    const fields = cron.trim().split(/\s+/).length;
    if (fields !== CRON_FIELDS)
        return `'${cron}' has ${fields} field(s); a schedule has ${CRON_FIELDS} (minute hour day-of-month month day-of-week)`;
    try {
        parse(cron);
        return undefined;
    }
    catch (err) {
        return `'${cron}' is not a cron expression (${err instanceof Error ? err.message : String(err)})`;
    }
}
/** The last firing at or before `now` and the next one after it (epoch ms). */
export function firingsAround(cron, now) {
    // prev() is strictly before its start: from now + 1 ms, a firing at exactly now counts as due.
    return { due: parse(cron, now + 1).prev().getTime(), next: parse(cron, now).next().getTime() };
}
/** Interval of a cron schedule, measured between its next two firings after `now`. */
export function scheduleIntervalMs(cron, now = Date.now()) {
    const it = parse(cron, now);
    const a = it.next().getTime();
    return it.next().getTime() - a;
}
//# sourceMappingURL=cron.js.map