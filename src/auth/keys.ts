/**
 * Token verification keys: loaded from a URL or a file in the upstream format or as a JWKS,
 * kept for 28 minutes (the upstream gateway's interval) and re-fetched on rotation.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ensureDevKeyPair } from './dev-keys.ts';

export const KEYS_MAX_AGE_MS = 28 * 60_000;
/**
 * Floor between two fetches (a re-fetch for an unknown kid, or a retry while no key set could be loaded),
 * so tokens with made-up kids cannot turn into a flood on the key endpoint.
 */
export const KEYS_MIN_REFETCH_INTERVAL_MS = 10_000;
export const KEYS_FETCH_TIMEOUT_MS = 5_000;
/** The largest key set read from a URL; a key endpoint answering more is refused. */
export const KEYS_MAX_BYTES = 1024 * 1024;

export interface VerificationKey {
  readonly kid?: string;
  readonly key: KeyObject;
}

export interface KeyProvider {
  /** The candidate keys for a token, best first. Rejects when no key could ever be loaded. */
  keysFor(kid: string | undefined): Promise<KeyObject[]>;
  /** Changes whenever the key set is (re)loaded: what was verified under an older set must be verified again. */
  readonly generation: number;
}

const UpstreamEntry = z.object({ key: z.string().min(1), kid: z.string().min(1).optional() });
const JwkEntry = z.looseObject({ kty: z.string(), kid: z.string().min(1).optional(), use: z.string().optional() });
const KeySetSchema = z.union([
  z.object({ keys: z.array(z.union([UpstreamEntry, JwkEntry])).min(1) }),
  // The upstream gateway also accepts a single `{"key": ...}` object.
  UpstreamEntry,
]);

function fromUpstream(entry: z.infer<typeof UpstreamEntry>, index: number): VerificationKey {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(entry.key, 'base64'), format: 'der', type: 'spki' });
  } catch (err) {
    throw new Error(`keys[${index}].key is not a base64 DER SubjectPublicKeyInfo`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`keys[${index}] is an ${key.asymmetricKeyType} key; RS256 needs RSA`);
  return { kid: entry.kid, key };
}

function fromJwk(entry: z.infer<typeof JwkEntry>, index: number): VerificationKey | undefined {
  // A JWKS may also publish keys for other algorithms or for encryption; they cannot verify RS256, so they are skipped.
  if (entry.kty !== 'RSA' || (entry.use !== undefined && entry.use !== 'sig')) return undefined;
  try {
    return { kid: entry.kid, key: createPublicKey({ key: entry as JsonWebKey, format: 'jwk' }) };
  } catch (err) {
    throw new Error(`keys[${index}] is not a valid RSA JWK`, { cause: err });
  }
}

/** Parses a key set in the upstream format or as a JWKS. Throws a clear Error on bad input. */
export function parseKeySet(json: unknown): VerificationKey[] {
  const parsed = KeySetSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error('expected {"keys": [{"key": "<base64 DER spki>"}]} or a JWKS {"keys": [{"kty": "RSA", "n": ..., "e": ...}]}');
  }
  const entries = 'keys' in parsed.data ? parsed.data.keys : [parsed.data];
  const keys = entries.flatMap((entry, i) => ('kty' in entry ? fromJwk(entry, i) : fromUpstream(entry, i)) ?? []);
  if (keys.length === 0) throw new Error('the key set holds no RSA signing key');
  return keys;
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${(err as Error).message}: ${cause.message}` : (err as Error).message;
}

/** A response body up to `max` bytes; a longer one is cancelled and refused. */
async function boundedText(res: Response, max: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += (chunk as Uint8Array).byteLength;
    if (size > max) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`the key endpoint answered more than ${max} bytes`);
    }
    chunks.push(chunk as Uint8Array);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads the raw JSON of a key source: an http(s) URL or a file path. */
export async function readKeySource(source: string, timeoutMs: number): Promise<unknown> {
  if (/^https?:\/\//i.test(source)) {
    let res: Response;
    try {
      // No redirects: the configured URL is the key source, not wherever it points to.
      res = await fetch(source, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' }, redirect: 'error' });
    } catch (err) {
      // undici reports "fetch failed" and hides the reason (refused, DNS, TLS) in the cause.
      const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : describeFetchError(err);
      throw new Error(reason, { cause: err });
    }
    if (!res.ok) throw new Error(`the key endpoint answered HTTP ${res.status}`);
    return JSON.parse(await boundedText(res, KEYS_MAX_BYTES));
  }
  return JSON.parse(await readFile(source, 'utf8'));
}

export interface KeyStoreOptions {
  readonly source: string;
  readonly maxAgeMs?: number;
  readonly minRefetchIntervalMs?: number;
  readonly timeoutMs?: number;
  readonly now?: () => number;
  readonly log?: Logger;
  /** Replaces readKeySource, for tests. */
  readonly read?: (source: string, timeoutMs: number) => Promise<unknown>;
}

export class KeyStore implements KeyProvider {
  private keys: readonly VerificationKey[] = [];
  private loads = 0;
  private loadedAt = -Infinity;
  private attemptedAt = -Infinity;
  /** Why the last load failed, while no key set could be loaded yet. */
  private failure: Error | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly maxAgeMs: number;
  private readonly minRefetchIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly read: (source: string, timeoutMs: number) => Promise<unknown>;

  constructor(private readonly opts: KeyStoreOptions) {
    this.maxAgeMs = opts.maxAgeMs ?? KEYS_MAX_AGE_MS;
    this.minRefetchIntervalMs = opts.minRefetchIntervalMs ?? KEYS_MIN_REFETCH_INTERVAL_MS;
    this.timeoutMs = opts.timeoutMs ?? KEYS_FETCH_TIMEOUT_MS;
    this.now = opts.now ?? Date.now;
    this.read = opts.read ?? readKeySource;
  }

  /** Loads the keys now; concurrent callers share one fetch. Rejects on failure (start-up can fail fast on it). */
  refresh(): Promise<void> {
    this.inFlight ??= this.load().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  get generation(): number {
    return this.loads;
  }

  async keysFor(kid: string | undefined): Promise<KeyObject[]> {
    if (this.keys.length === 0) {
      // Nothing to fall back on: the failure is the caller's answer. A failed load is retried at most
      // once per interval too, so a flood of tokens while the source is down costs it one request.
      if (this.failure && this.now() - this.attemptedAt < this.minRefetchIntervalMs) throw this.failure;
      await this.refresh();
    } else if (this.shouldRefetch(kid)) {
      try {
        await this.refresh();
      } catch (err) {
        this.opts.log?.warn({ err, source: this.opts.source }, 'token key re-fetch failed; keeping the previous keys');
      }
    }
    const matching = kid === undefined ? [] : this.keys.filter((k) => k.kid === kid);
    const others = this.keys.filter((k) => !matching.includes(k));
    return [...matching, ...others].map((k) => k.key);
  }

  private shouldRefetch(kid: string | undefined): boolean {
    const now = this.now();
    if (now - this.attemptedAt < this.minRefetchIntervalMs) return false;
    if (now - this.loadedAt >= this.maxAgeMs) return true;
    // Upstream-format keys carry no kid; a kid can only be "unknown" to a set that names its keys.
    const named = this.keys.some((k) => k.kid !== undefined);
    return kid !== undefined && named && !this.keys.some((k) => k.kid === kid);
  }

  private async load(): Promise<void> {
    this.attemptedAt = this.now();
    let keys: VerificationKey[];
    try {
      keys = parseKeySet(await this.read(this.opts.source, this.timeoutMs));
    } catch (err) {
      this.failure = new Error(`cannot load token verification keys from ${this.opts.source}: ${(err as Error).message}`, { cause: err });
      throw this.failure;
    }
    this.failure = undefined;
    this.keys = keys;
    this.loads += 1;
    this.loadedAt = this.now();
  }
}

/** Where the development key pair's public half lives under DATA_DIR (src/auth/dev-keys.ts). */
const devPublicKeysFile = (dataDir: string) => path.resolve(dataDir, 'dev-keys', 'public-keys.json');

/**
 * The key source to verify tokens with: the configured one, else (the all-in-one mode only: no
 * DATABASE_URL, outside production) the local dev key pair. A deployment (any DATABASE_URL, whatever
 * NODE_ENV says; or NODE_ENV=production) never falls back, so a forgotten setting cannot silently
 * accept tokens signed by a key on disk; nor does it name that dev key file itself. In production
 * a plain http:// source is refused: anyone on the path could hand the API their own key.
 */
export async function resolveKeySource(config: {
  readonly tokenPublicKeysUrl?: string | undefined;
  readonly production: boolean;
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
}): Promise<string> {
  const deployment = config.production || config.databaseUrl !== undefined;
  const source = config.tokenPublicKeysUrl;
  if (source !== undefined) {
    if (config.production && /^http:\/\//i.test(source)) {
      throw new Error('NODE_ENV=production refuses a plain http:// token key source (TOKEN_PUBLIC_KEYS_URL / token_public_keys_url): use https://');
    }
    if (deployment && !/^https?:\/\//i.test(source) && path.resolve(source) === devPublicKeysFile(config.dataDir)) {
      throw new Error(`a deployment (DATABASE_URL or NODE_ENV=production) never verifies with the development key pair (${source})`);
    }
    return source;
  }
  if (config.production) {
    throw new Error('NODE_ENV=production requires token_public_keys_url (config.json) or TOKEN_PUBLIC_KEYS_URL');
  }
  if (config.databaseUrl !== undefined) {
    throw new Error('DATABASE_URL is set: a deployment requires token_public_keys_url (config.json) or TOKEN_PUBLIC_KEYS_URL (the development key pair verifies the all-in-one mode only)');
  }
  return (await ensureDevKeyPair(config.dataDir)).publicKeysFile;
}
