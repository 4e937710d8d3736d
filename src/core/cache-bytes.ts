/**
 * What the in-process caches count against their byte bounds (lru-cache's maxSize with a
 * sizeCalculation): an estimate of the V8 heap an entry holds, its key included, on the high side,
 * so a bound in bytes is a bound on memory whatever values a client sends.
 *
 * Keys longer than KEY_HASH_FROM characters are kept as their SHA-256 (cacheKey): a request's filter
 * values end up in keys, and a key of 100 long values would otherwise weigh more than its entry.
 */
import { createHash } from 'node:crypto';

/** Keys up to this many characters are kept as they are; longer ones as their hash. */
export const KEY_HASH_FROM = 128;
/** A heap object's header, and one property slot (a pointer, or a heap number behind it). */
const OBJECT_BYTES = 32;
const SLOT_BYTES = 24;
/** What lru-cache and our bookkeeping keep per entry besides key and value (its slots, the index). */
export const ENTRY_OVERHEAD_BYTES = 160;

/** A short key as it is; a long one as 'h:' and its SHA-256 in base64url (45 characters). */
export function cacheKey(key: string): string {
  return key.length <= KEY_HASH_FROM ? key : `h:${createHash('sha256').update(key).digest('base64url')}`;
}

/** A string's heap size, counted as two bytes a character (a string with one non-Latin-1 character is stored so). */
export const stringBytes = (s: string): number => 16 + 2 * s.length;

/** A flat record of strings, numbers and nulls (a cached row). */
export function recordBytes(row: Readonly<Record<string, unknown>>): number {
  let bytes = OBJECT_BYTES;
  for (const key in row) {
    const v = row[key];
    bytes += SLOT_BYTES + (typeof v === 'string' ? stringBytes(v) : 0);
  }
  return bytes;
}
