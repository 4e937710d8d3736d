/**
 * Tokens that passed full verification, so a dashboard's repeated requests with the same token skip
 * the RSA signature check and the claim rules (~80 µs of CPU a request, measured under load).
 *
 * An entry is the exact token string, so a token that differs in any byte is verified afresh. It is
 * honoured only while all of these hold:
 * - the token has not expired: never past its `exp` (a token without `exp` gets the short age cap only);
 * - it is younger than `maxAgeMs` (default 60 s), which bounds how long a revoked key's tokens keep
 *   working beyond the key set's own re-fetch;
 * - the key set it was verified under is still the current one (`KeyProvider.generation`).
 * Entries are keyed by the token's SHA-256 (a token can be kilobytes, and is a secret best not kept)
 * and bounded in bytes (LRU, keys and users counted: src/core/cache-bytes.ts), so a flood of distinct
 * tokens costs verification, not memory.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { ENTRY_OVERHEAD_BYTES, stringBytes } from "../core/cache-bytes.js";
import { VERIFIED_TOKENS_MAX_BYTES } from "../core/config.js";
export const VERIFIED_TOKEN_MAX_AGE_MS = 60_000;
export class VerifiedTokens {
    entries;
    maxAgeMs;
    maxBytes;
    now;
    constructor(opts = {}) {
        this.maxBytes = opts.maxBytes ?? VERIFIED_TOKENS_MAX_BYTES;
        this.entries = new LRUCache({
            maxSize: this.maxBytes,
            sizeCalculation: (entry, key) => ENTRY_OVERHEAD_BYTES + stringBytes(key) + stringBytes(entry.user) + 48,
        });
        this.maxAgeMs = opts.maxAgeMs ?? VERIFIED_TOKEN_MAX_AGE_MS;
        this.now = opts.now ?? Date.now;
    }
    /** The user of a token verified earlier under key set `generation`, if the entry still holds. */
    userOf(token, generation) {
        const key = digest(token);
        const entry = this.entries.get(key);
        if (entry === undefined)
            return undefined;
        if (entry.generation !== generation || this.now() >= entry.until) {
            this.entries.delete(key);
            return undefined;
        }
        return entry.user;
    }
    /** Records a token that has just passed full verification; `exp` is its claim in epoch seconds, if any. */
    remember(token, user, generation, exp) {
        const capped = this.now() + this.maxAgeMs;
        const until = typeof exp === 'number' && Number.isFinite(exp) ? Math.min(exp * 1000, capped) : capped;
        this.entries.set(digest(token), { user, generation, until });
    }
    /** Bytes held now, as counted against maxBytes. */
    get bytes() {
        return this.entries.calculatedSize;
    }
}
const digest = (token) => createHash('sha256').update(token).digest('base64url');
//# sourceMappingURL=verified-tokens.js.map