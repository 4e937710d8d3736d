import { ValidationError } from "../core/errors.js";
import { paramsJsonSchema } from "../declarations/catalog.js";
/** The JSON types a schema (and its anyOf / oneOf branches) accepts. */
function typesOf(schema, out = new Set()) {
    if (typeof schema.type === 'string')
        out.add(schema.type);
    else if (Array.isArray(schema.type))
        schema.type.forEach((t) => out.add(t));
    if (schema.enum?.some((v) => typeof v === 'string'))
        out.add('string');
    for (const branch of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])])
        typesOf(branch, out);
    return out;
}
const takesCache = new WeakMap();
/** What each parameter of the query takes (built once per query). */
export function parameterTakes(query) {
    let takes = takesCache.get(query);
    if (!takes) {
        const properties = paramsJsonSchema(query).properties ?? {};
        takes = new Map(Object.entries(properties).map(([name, schema]) => {
            const types = typesOf(schema);
            return [name, { list: types.has('array'), string: types.has('string'), number: types.has('integer') || types.has('number') }];
        }));
        takesCache.set(query, takes);
    }
    return takes;
}
/** The grammar of a JSON number: what JSON.parse would read as one. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
/** One component of the query string, decoded as a form: `+` is a space, percent-escapes are UTF-8. */
function decode(component) {
    try {
        return decodeURIComponent(component.replaceAll('+', ' '));
    }
    catch {
        throw new ValidationError(`query: '${printable(component)}' is not valid percent-encoded UTF-8`);
    }
}
/** Each key of a URL's query string with its values, in order. Malformed percent-encoding is a 400 (not a silent U+FFFD). */
export function queryEntries(url) {
    const at = url.indexOf('?');
    const entries = new Map();
    if (at < 0)
        return entries;
    for (const piece of url.slice(at + 1).split('&')) {
        if (piece === '')
            continue;
        const eq = piece.indexOf('=');
        const key = decode(eq < 0 ? piece : piece.slice(0, eq));
        const value = eq < 0 ? '' : decode(piece.slice(eq + 1));
        const values = entries.get(key);
        if (values)
            values.push(value);
        else
            entries.set(key, [value]);
    }
    return entries;
}
/** A name as a message may quote it: printable ASCII, anything else as '?'. */
function printable(s) {
    const shown = [...s].map((c) => (c >= ' ' && c <= '~' ? c : '?')).join('');
    return shown.length > 64 ? `${shown.slice(0, 64)}...` : shown;
}
function convert(values, takes) {
    const one = values.length === 1 ? values[0] : undefined;
    if (takes?.list) {
        if (takes.string && one !== undefined && !one.includes(','))
            return one;
        if (one === '')
            return [];
        return values.flatMap((v) => v.split(','));
    }
    if (one === undefined)
        return [...values];
    if (takes?.number && JSON_NUMBER.test(one))
        return Number(one);
    return one;
}
/** The request's query string as the body a POST to the same query would carry. */
export function queryStringParams(req, query) {
    const takes = parameterTakes(query);
    return Object.fromEntries([...queryEntries(req.originalUrl)].map(([key, values]) => [key, convert(values, takes.get(key))]));
}
//# sourceMappingURL=query-string.js.map