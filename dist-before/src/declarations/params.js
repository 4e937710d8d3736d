/**
 * Parameter schemas shared by the compiled queries: window, filters, group_by, limit. Each query
 * composes its strict zod object from these, so unknown keys are rejected and every rule has a
 * message that names it.
 */
import { z } from 'zod';
import { WindowParams } from "../rollup/window.js";
export const MAX_FILTER_VALUES = 100;
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
const filterRule = `must be a string or a non-empty array of up to ${MAX_FILTER_VALUES} strings`;
/** A filter: one value or a list, normalised to a de-duplicated list (exact match). */
const filterString = z.string({ error: filterRule }).max(255, { error: 'must be at most 255 characters' });
export const filterValues = z
    .union([filterString, z.array(filterString, { error: filterRule }).min(1, { error: filterRule }).max(MAX_FILTER_VALUES, { error: filterRule })], {
    error: filterRule,
})
    .transform((v) => (typeof v === 'string' ? [v] : [...new Set(v)]));
export const limitParam = z
    .int({ error: `must be an integer from 1 to ${MAX_LIMIT}` })
    .min(1, { error: `must be an integer from 1 to ${MAX_LIMIT}` })
    .max(MAX_LIMIT, { error: `must be an integer from 1 to ${MAX_LIMIT}` })
    .default(DEFAULT_LIMIT);
/** No compiled-query parameter takes more items than this (a filter's values; group_by has fewer dimensions). */
export const MAX_PARAM_ITEMS = MAX_FILTER_VALUES;
/**
 * The body with every top-level array cut to MAX_PARAM_ITEMS + 1 items. No parameter accepts more,
 * so parsing the cut body answers the same 400, without zod making one issue per item of a
 * 15,000-item array (some 40 ms of event loop for one 30 kB body). Keys stay own keys, `__proto__` too.
 */
export function clipArrays(body) {
    const tooLong = (v) => Array.isArray(v) && v.length > MAX_PARAM_ITEMS + 1;
    if (!Object.values(body).some(tooLong))
        return body;
    return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, tooLong(v) ? v.slice(0, MAX_PARAM_ITEMS + 1) : v]));
}
export function groupByParam(allowed, fallback, allowEmpty = false) {
    const rule = `must be ${allowEmpty ? 'an' : 'a non-empty'} array of distinct values from ${allowed.join(', ')}`;
    return z
        .array(z.enum(allowed, { error: rule }), { error: rule })
        .min(allowEmpty ? 0 : 1, { error: rule })
        .refine((v) => new Set(v).size === v.length, { error: rule })
        .default([...fallback]);
}
export function filterShape(dims) {
    return Object.fromEntries(dims.map((d) => [d, filterValues.optional()]));
}
/** The strict object every compiled query's body is parsed with. */
export function querySchema(filters, extra) {
    return z.strictObject({ ...WindowParams, ...filterShape(filters), ...extra });
}
/** The filters of parsed params, as the rollup engine takes them. */
export function pickFilters(params, dims) {
    const out = {};
    for (const d of dims) {
        const v = params[d];
        if (v)
            out[d] = v;
    }
    return out;
}
//# sourceMappingURL=params.js.map