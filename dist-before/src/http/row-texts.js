/**
 * The JSON text of answer rows, kept per merged row (issue 30). A `days` window moves every
 * millisecond, so its answer is never the last one; but it differs from the last one only in the
 * rows its raw edges and tail changed: the other rows are the very objects of the cached merged
 * window (src/read/merge.ts never changes a row once made). So each answer row's text, and the
 * SHA-256 of that text (the entity tag is taken over the rows' digests, src/http/caching.ts), is
 * kept under its merged row and reused while that row is the same object and the row function
 * (QueryPlan.rowwise: query, group_by) the same.
 *
 * Bounded in bytes (src/core/cache-bytes.ts): the merged row, the text and the digest counted, least
 * recently used first out. A key holds its merged row alive until it goes, so the bound covers
 * rows the parts cache has already let go.
 */
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { ENTRY_OVERHEAD_BYTES, recordBytes, stringBytes } from "../core/cache-bytes.js";
/** The bytes all kept row texts may take, per process (about 8,000 rows of 200 characters). */
export const ROW_TEXTS_MAX_BYTES = 4 * 1024 * 1024;
export class RowTexts {
    texts;
    constructor(maxBytes = ROW_TEXTS_MAX_BYTES) {
        this.texts = new LRUCache({
            maxSize: maxBytes,
            sizeCalculation: (value, source) => ENTRY_OVERHEAD_BYTES + recordBytes(source) + stringBytes(value.text) + stringBytes(value.digest) + 32,
        });
    }
    /** Merged rows seen once (weakly: gone with the row). */
    seen = new WeakSet();
    /** The text of the answer row `row()` makes from merged row `source` by the row function `key`. */
    of(source, key, row) {
        // peek, not get: no reordering per row read (a row kept is made again at most once per bound's
        // worth of new texts).
        const known = this.texts.peek(source);
        if (known !== undefined && known.key === key)
            return known;
        const text = JSON.stringify(row());
        const made = { key, text, digest: hash('sha256', text, 'base64url') };
        // Kept from a row's second answer on: the rows an answer's edges and tail changed are new objects
        // on every request, and keeping them would only churn the bound and promote garbage into V8's old
        // generation (the API's peak RSS under a `days` load: docs/BENCHMARKS.md, issue 30).
        if (this.seen.has(source))
            this.texts.set(source, made);
        else
            this.seen.add(source);
        return made;
    }
    /** Bytes held, as counted against the bound. */
    get bytes() {
        return this.texts.calculatedSize;
    }
}
//# sourceMappingURL=row-texts.js.map