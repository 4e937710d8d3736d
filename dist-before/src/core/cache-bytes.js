/**
 * What the in-process caches count against their byte bounds (lru-cache's maxSize with a
 * sizeCalculation): an estimate of the V8 heap an entry holds, its key included, on the high side,
 * so a bound in bytes is a bound on memory whatever values a client sends.
 *
 * Keys longer than KEY_HASH_FROM characters are kept as their SHA-256 (cacheKey): a request's filter
 * values end up in keys, and a key of 100 long values would otherwise weigh more than its entry.
 */
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
/** Keys up to this many characters are kept as they are; longer ones as their hash. */
export const KEY_HASH_FROM = 128;
/** What the texts whose digests are remembered (DigestMemo) may hold, each memo. */
export const DIGEST_MEMO_MAX_BYTES = 1024 * 1024;
/** A heap object's header, and one property slot (a pointer, or a heap number behind it). */
const OBJECT_BYTES = 32;
const SLOT_BYTES = 24;
/** What lru-cache and our bookkeeping keep per entry besides key and value (its slots, the index). */
export const ENTRY_OVERHEAD_BYTES = 160;
/** A string's heap size, counted as two bytes a character (a string with one non-Latin-1 character is stored so). */
export const stringBytes = (s) => 16 + 2 * s.length;
/**
 * A digest of a text, remembered for the texts asked for most recently (bounded in bytes, the texts
 * counted): a request builds the same long cache keys and statement text as the last request of its
 * shape, and looking a string up in a map costs a fraction of hashing it with SHA-256 again (4-7% of
 * the API's CPU under a `days: 7` load before, docs/BENCHMARKS.md, issue 30).
 */
export class DigestMemo {
    digest;
    known;
    constructor(digest, maxBytes = DIGEST_MEMO_MAX_BYTES) {
        this.digest = digest;
        this.known = new LRUCache({ maxSize: maxBytes, sizeCalculation: (value, key) => ENTRY_OVERHEAD_BYTES + stringBytes(key) + stringBytes(value) });
    }
    of(text) {
        let found = this.known.get(text);
        if (found === undefined) {
            found = this.digest(text);
            this.known.set(text, found);
        }
        return found;
    }
}
const longKeys = new DigestMemo((key) => `h:${hash('sha256', key, 'base64url')}`);
/**
 * A short key as it is; a long one as 'h:' and its SHA-256 in base64url (45 characters). `remember`:
 * whether its digest is worth keeping (false for a key that is new on almost every request, such as a
 * real-time answer's, whose raw ranges move with a `days` window: remembered, it would only churn the
 * memo and promote garbage into V8's old generation).
 */
export function cacheKey(key, remember = true) {
    if (key.length <= KEY_HASH_FROM)
        return key;
    return remember ? longKeys.of(key) : `h:${hash('sha256', key, 'base64url')}`;
}
/** A flat record of strings, numbers and nulls (a cached row). */
export function recordBytes(row) {
    let bytes = OBJECT_BYTES;
    for (const key in row) {
        const v = row[key];
        bytes += SLOT_BYTES + (typeof v === 'string' ? stringBytes(v) : 0);
    }
    return bytes;
}
//# sourceMappingURL=cache-bytes.js.map