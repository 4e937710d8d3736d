import express, {} from 'express';
/** The largest request body accepted, counted after decompression; a larger one answers 413. */
export const BODY_LIMIT_BYTES = 64 * 1024;
/** The /stats body parser. Upstream clients do not always send Content-Type: every body is read as JSON. */
export function jsonBody() {
    return express.json({ type: () => true, limit: BODY_LIMIT_BYTES });
}
//# sourceMappingURL=body.js.map