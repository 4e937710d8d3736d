/**
 * The time window of a compiled query and its decomposition into parts that a rollup can answer
 * exactly: whole day buckets, whole hour buckets, and the raw millisecond edges around them.
 * All ranges are half-open [from, to) in epoch ms; a request's inclusive [start, end] is [start, end + 1).
 */
import { z } from 'zod';
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const MAX_WINDOW_DAYS = 366;
export const DEFAULT_WINDOW_DAYS = 7;
export const GRAIN_MS = Object.freeze({ day: DAY_MS, hour: HOUR_MS, minute: MINUTE_MS });
/** Epoch ms that PostgreSQL and JavaScript dates both hold, and print with four-digit years: 0001-01-01 to 9999-12-31. */
export const EPOCH_MS_MIN = -62_135_596_800_000;
export const EPOCH_MS_MAX = 253_402_300_799_999;
const EPOCH_MS_RULE = `must be an integer (epoch ms) from ${EPOCH_MS_MIN} (0001-01-01) to ${EPOCH_MS_MAX} (9999-12-31)`;
/** An epoch-ms parameter: an integer within the dates both PostgreSQL and JavaScript hold. */
export const epochMsParam = () => z.int({ error: EPOCH_MS_RULE }).min(EPOCH_MS_MIN, { error: EPOCH_MS_RULE }).max(EPOCH_MS_MAX, { error: EPOCH_MS_RULE });
export const WindowParams = {
    timestamp_start: epochMsParam().optional(),
    timestamp_end: epochMsParam().optional(),
    days: z
        .int({ error: `must be an integer from 1 to ${MAX_WINDOW_DAYS}` })
        .min(1, { error: `must be an integer from 1 to ${MAX_WINDOW_DAYS}` })
        .max(MAX_WINDOW_DAYS, { error: `must be an integer from 1 to ${MAX_WINDOW_DAYS}` })
        .optional(),
};
/** Returns the window, or the rule it breaks (the caller turns that into a 400). */
export function resolveWindow(input, now) {
    const { timestamp_start: s, timestamp_end: e, days } = input;
    if (days !== undefined && (s !== undefined || e !== undefined)) {
        return { error: "'days' cannot be combined with 'timestamp_start' or 'timestamp_end'" };
    }
    let w;
    if (days !== undefined)
        w = { start: now - days * DAY_MS, end: now, relative: true };
    else if (s === undefined && e === undefined)
        w = { start: now - DEFAULT_WINDOW_DAYS * DAY_MS, end: now, relative: true };
    else if (s === undefined)
        w = { start: e - DEFAULT_WINDOW_DAYS * DAY_MS, end: e };
    else
        w = e === undefined ? { start: s, end: now, relative: true } : { start: s, end: e };
    if (w.start > w.end)
        return { error: "'timestamp_start' must not be after 'timestamp_end'" };
    if (w.start < EPOCH_MS_MIN)
        return { error: `the window must not start before ${EPOCH_MS_MIN} (0001-01-01)` };
    if (w.end - w.start > MAX_WINDOW_DAYS * DAY_MS)
        return { error: `the window must not be longer than ${MAX_WINDOW_DAYS} days` };
    return w;
}
export const floorTo = (t, g) => t - (((t % g) + g) % g);
export const ceilTo = (t, g) => floorTo(t + g - 1, g);
/**
 * Splits [start, end] into the coarsest whole buckets the available grains allow, coarse in the
 * middle and finer towards the edges, and leaves what no whole bucket covers to the raw rows.
 * `grains` must be ordered coarse to fine, each dividing the previous one. A grain with `from`
 * (a recent tier) is used only at or after that time; `from` must be aligned to every coarser grain.
 */
export function planWindow(w, grains) {
    const covers = grains.map((g) => (typeof g === 'string' ? { grain: g } : g));
    const buckets = [];
    const raw = [];
    const fill = (from, to, level) => {
        if (from >= to)
            return;
        const cover = covers[level];
        if (cover === undefined) {
            raw.push({ from, to });
            return;
        }
        if (cover.from !== undefined && from < cover.from) {
            // Before the tier starts this grain has no buckets: finer grains (same tier) or raw rows.
            if (to <= cover.from)
                return fill(from, to, level + 1);
            fill(from, cover.from, level);
            return fill(cover.from, to, level);
        }
        const g = GRAIN_MS[cover.grain];
        const a = ceilTo(from, g);
        const b = floorTo(to, g);
        if (a >= b)
            return fill(from, to, level + 1);
        fill(from, a, level + 1);
        buckets.push({ grain: cover.grain, range: { from: a, to: b } });
        fill(b, to, level + 1);
    };
    fill(w.start, w.end + 1, 0);
    return { buckets, raw: mergeRanges(raw) };
}
function mergeRanges(ranges) {
    const sorted = [...ranges].sort((x, y) => x.from - y.from);
    const out = [];
    for (const r of sorted) {
        const last = out.at(-1);
        if (last && last.to >= r.from)
            out[out.length - 1] = { from: last.from, to: Math.max(last.to, r.to) };
        else
            out.push(r);
    }
    return out;
}
//# sourceMappingURL=window.js.map