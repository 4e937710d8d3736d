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
 * The count is bounded (LRU), so a flood of distinct tokens costs verification, not memory.
 */
import { LRUCache } from 'lru-cache';

export const VERIFIED_TOKENS_MAX = 1_000;
export const VERIFIED_TOKEN_MAX_AGE_MS = 60_000;

interface Entry {
  readonly user: string;
  readonly generation: number;
  /** Epoch ms after which the entry is not honoured: min(exp, verified at + max age). */
  readonly until: number;
}

export interface VerifiedTokensOptions {
  readonly max?: number;
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

export class VerifiedTokens {
  private readonly entries: LRUCache<string, Entry>;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(opts: VerifiedTokensOptions = {}) {
    this.entries = new LRUCache({ max: opts.max ?? VERIFIED_TOKENS_MAX });
    this.maxAgeMs = opts.maxAgeMs ?? VERIFIED_TOKEN_MAX_AGE_MS;
    this.now = opts.now ?? Date.now;
  }

  /** The user of a token verified earlier under key set `generation`, if the entry still holds. */
  userOf(token: string, generation: number): string | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (entry.generation !== generation || this.now() >= entry.until) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.user;
  }

  /** Records a token that has just passed full verification; `exp` is its claim in epoch seconds, if any. */
  remember(token: string, user: string, generation: number, exp: unknown): void {
    const capped = this.now() + this.maxAgeMs;
    const until = typeof exp === 'number' && Number.isFinite(exp) ? Math.min(exp * 1000, capped) : capped;
    this.entries.set(token, { user, generation, until });
  }
}
