/**
 * The cron of each view's refresh: the registry's default unless REFRESH_SCHEDULES overrides it.
 * Resolved when the worker starts, before it connects, so a bad override stops it with a message
 * that names the view and the expression.
 */
import { ConfigError } from "../core/config.js";
import { cronProblem } from "../core/cron.js";
import { scheduleOf } from "../declarations/index.js";
import { refreshQueue } from "../db/tables.js";
/** A configuration error found at start: the worker entry exits 2 on it, like on any ConfigError. */
export class ScheduleError extends ConfigError {
    name = 'ScheduleError';
}
function checkCron(cron, source) {
    const problem = cronProblem(cron);
    if (problem)
        throw new ScheduleError(`invalid configuration: ${source}: ${problem}`);
}
/**
 * One schedule per view, in registry order. Keys of `overrides` are view names as the registry
 * spells them; an unknown key is an error, since a misspelt view would otherwise keep its default
 * schedule without a word.
 */
export function resolveSchedules(views, overrides) {
    const known = views.map((v) => v.name);
    const unknown = Object.keys(overrides).filter((name) => !known.includes(name));
    if (unknown.length) {
        throw new ScheduleError(`invalid configuration: REFRESH_SCHEDULES: unknown view(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
    }
    return views.map((view) => {
        const { cron, overridden } = scheduleOf(view, overrides);
        checkCron(cron, overridden ? `REFRESH_SCHEDULES["${view.name}"]` : `the registry's schedule of ${view.name}`);
        return Object.freeze({ view, queue: refreshQueue(view.name), cron, overridden });
    });
}
//# sourceMappingURL=schedules.js.map