import { ValidationError } from "./errors.js";
/**
 * At most this many issues, and unknown keys, are spelled out. A 64 kB body of 30,000 bad array items
 * would otherwise answer a 1.8 MB message (one issue per item).
 */
export const MAX_DESCRIBED = 10;
/** The first MAX_DESCRIBED items, then `rest` when there are more. */
function firstFew(items, show, separator, rest) {
    const shown = items.slice(0, MAX_DESCRIBED).map(show).join(separator);
    return items.length > MAX_DESCRIBED ? `${shown}${separator}${rest(items.length - MAX_DESCRIBED)}` : shown;
}
export function describeIssues(issues) {
    return firstFew(issues, (i) => {
        if (i.code === 'unrecognized_keys')
            return `unknown field(s) ${firstFew(i.keys, (k) => `'${k}'`, ', ', (n) => `and ${n} more`)}: not accepted here`;
        const field = i.path.length ? `'${i.path.join('.')}'` : 'body';
        return `${field}: ${i.message}`;
    }, '; ', 
    // Not counted: a long array is parsed cut short (clipArrays), so the count would be of its first items only.
    () => 'and more');
}
export function parseOrThrow(schema, input) {
    const result = schema.safeParse(input);
    if (!result.success)
        throw new ValidationError(describeIssues(result.error.issues));
    return result.data;
}
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
function pathOf(place) {
    const keys = [];
    for (let p = place; p !== undefined; p = p.parent)
        keys.push(p.key);
    return keys.reverse().join('.') || 'body';
}
/**
 * The path of the first string (value or key) in a parsed JSON body that PostgreSQL cannot store
 * in a text value: one with NUL (U+0000) or an unpaired surrogate. Walked with a stack, not by
 * recursion, so a deeply nested body cannot overflow it; and linear in the body's size, as no path is
 * built until one is reported (building one per value took 185 ms for 30,000 levels, quadratic).
 */
export function unstorableString(body) {
    const stack = [[body, undefined]];
    const bad = (s) => s.includes('\u0000') || LONE_SURROGATE.test(s);
    while (stack.length) {
        const [value, place] = stack.pop();
        if (typeof value === 'string') {
            if (bad(value))
                return pathOf(place);
        }
        else if (Array.isArray(value)) {
            for (let i = value.length - 1; i >= 0; i--)
                stack.push([value[i], { key: String(i), parent: place }]);
        }
        else if (value !== null && typeof value === 'object') {
            for (const [k, v] of Object.entries(value)) {
                const at = { key: k, parent: place };
                if (bad(k))
                    return pathOf(at);
                stack.push([v, at]);
            }
        }
    }
    return undefined;
}
/** The optional JSON-object body of POST routes: absent means {}. */
export function bodyObject(body) {
    if (body === undefined || body === null)
        return {};
    if (typeof body !== 'object' || Array.isArray(body))
        throw new ValidationError('body: must be a JSON object');
    const at = unstorableString(body);
    if (at !== undefined) {
        // The path itself may hold the bad character (a key): printable ASCII only in the message.
        const printable = [...at].map((c) => (c >= ' ' && c <= '~' ? c : '?')).join('');
        throw new ValidationError(`'${printable}': must not contain NUL (\\u0000) or an unpaired surrogate (not storable as text)`);
    }
    return body;
}
//# sourceMappingURL=validation.js.map