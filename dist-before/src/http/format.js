import { z } from 'zod';
import { parseOrThrow } from "../core/validation.js";
export const FORMATS = Object.freeze(['json', 'csv']);
const FORMAT_RULE = `must be one of ${FORMATS.map((f) => `'${f}'`).join(', ')}`;
export const FormatParam = z.enum(FORMATS, { error: FORMAT_RULE });
/** The `format` parameter as JSON Schema, for the OpenAPI document (GET query parameter and POST body field). */
export const FORMAT_JSON_SCHEMA = Object.freeze({
    type: 'string',
    enum: [...FORMATS],
    description: 'json (the default) or csv; without it, Accept: text/csv asks for CSV',
});
const FormatField = z.object({ format: FormatParam.optional() });
const MEDIA_TYPES = Object.freeze({ 'application/json': 'json', 'text/csv': 'csv' });
/**
 * Splits `format` off the parameters; a value other than json or csv is a 400 naming `format`.
 * Keys stay own keys (`__proto__` too), so the query's strict schema sees exactly what was sent.
 */
export function takeFormat(req, input) {
    if (!Object.hasOwn(input, 'format'))
        return { format: negotiated(req), params: input };
    const { format } = parseOrThrow(FormatField, { format: input.format });
    const params = Object.fromEntries(Object.entries(input).filter(([k]) => k !== 'format'));
    return { format: format ?? negotiated(req), params };
}
function negotiated(req) {
    const best = req.accepts(Object.keys(MEDIA_TYPES));
    return (best && MEDIA_TYPES[best]) || 'json';
}
//# sourceMappingURL=format.js.map