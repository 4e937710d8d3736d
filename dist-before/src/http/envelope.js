/** The success envelope: {success, statusCode, ...extra, data}. */
export function okBody(data, extra = {}) {
    return { success: true, statusCode: 200, ...extra, data };
}
export function sendOk(res, data, extra = {}) {
    res.status(200).json(okBody(data, extra));
}
/**
 * The success envelope around data that is already JSON text (a raw page: src/raw/raw-stats.ts
 * readRawPageJson), byte for byte what sendOk(res, JSON.parse(dataJson), extra) would send.
 */
export function sendOkJson(res, dataJson, extra = {}) {
    // okBody puts data last, so its JSON ends with the placeholder's `null}`.
    const around = JSON.stringify(okBody(null, extra));
    res.status(200).type('application/json').send(`${around.slice(0, -'null}'.length)}${dataJson}}`);
}
export function errorBody(err) {
    return { success: false, statusCode: err.status, errors: [{ type: err.type, message: err.message }] };
}
//# sourceMappingURL=envelope.js.map