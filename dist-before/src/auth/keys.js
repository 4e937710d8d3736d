/**
 * Token verification keys: loaded from a URL or a file in the upstream format or as a JWKS,
 * kept for 28 minutes (the upstream gateway's interval) and re-fetched on rotation.
 *
 * jose imports the keys (importSPKI for the upstream format's base64 DER, importJWK for a JWKS),
 * selects a token's key from the set (createLocalJWKSet: by kid, algorithm and use) and, when several
 * keys qualify, checks which one signed it (compactVerify). lru-cache's fetch() keeps the set for its
 * age, shares one load between concurrent callers and keeps the previous set when a re-fetch fails.
 * The floor between two fetches stays here: jose's remote key set (createRemoteJWKSet) counts its
 * cooldown from the last successful load only, so a source that is down would be asked by every
 * request, and it drops to an error instead of the previous keys once the set is past its age
 * (docs/ARCHITECTURE.md, the stack table).
 */
import { createPublicKey, KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { compactVerify, createLocalJWKSet, errors, exportJWK, importJWK, importSPKI } from 'jose';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { ensureDevKeyPair } from "./dev-keys.js";
export const KEYS_MAX_AGE_MS = 28 * 60_000;
/**
 * Floor between two fetches (a re-fetch for an unknown kid, or a retry while no key set could be loaded),
 * so tokens with made-up kids cannot turn into a flood on the key endpoint.
 */
export const KEYS_MIN_REFETCH_INTERVAL_MS = 10_000;
export const KEYS_FETCH_TIMEOUT_MS = 5_000;
/** The largest key set read from a URL; a key endpoint answering more is refused. */
export const KEYS_MAX_BYTES = 1024 * 1024;
/** The one algorithm tokens are signed with, as upstream. */
const ALG = 'RS256';
const UpstreamEntry = z.object({ key: z.string().min(1), kid: z.string().min(1).optional() });
const JwkEntry = z.looseObject({ kty: z.string(), kid: z.string().min(1).optional(), use: z.string().optional(), alg: z.string().optional() });
const KeySetSchema = z.union([
    z.object({ keys: z.array(z.union([UpstreamEntry, JwkEntry])).min(1) }),
    // The upstream gateway also accepts a single `{"key": ...}` object.
    UpstreamEntry,
]);
const withKid = (jwk, kid) => ({ ...jwk, ...(kid === undefined ? {} : { kid }), use: 'sig', alg: ALG });
/**
 * jose refuses RSA keys under 2048 bits when it verifies (not when it imports), so such a key could
 * be selected yet never pick a token: it is refused with the set instead.
 */
function assertModulus(key) {
    const bits = key.algorithm.modulusLength ?? 0;
    if (bits < 2048)
        throw new TypeError(`${ALG} requires key modulusLength to be 2048 bits or larger (this key has ${bits})`);
    return key;
}
/** Why an upstream key failed jose's import, in words that name the entry (jose's own name no position). */
function upstreamFailure(der, index, err) {
    let type;
    try {
        type = createPublicKey({ key: der, format: 'der', type: 'spki' }).asymmetricKeyType;
    }
    catch {
        return new Error(`keys[${index}].key is not a base64 DER SubjectPublicKeyInfo`, { cause: err });
    }
    if (type !== 'rsa')
        return new Error(`keys[${index}] is an ${type} key; ${ALG} needs RSA`, { cause: err });
    return new Error(`keys[${index}]: ${err.message}`, { cause: err });
}
/** The upstream format's entry (base64 DER SubjectPublicKeyInfo) as a JWK: the adapter to jose's key sets. */
async function fromUpstream(entry, index) {
    const der = Buffer.from(entry.key, 'base64');
    const pem = `-----BEGIN PUBLIC KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PUBLIC KEY-----`;
    try {
        return withKid(await exportJWK(assertModulus(await importSPKI(pem, ALG, { extractable: true }))), entry.kid);
    }
    catch (err) {
        throw upstreamFailure(der, index, err);
    }
}
async function fromJwk(entry, index) {
    // A JWKS may also publish keys for other algorithms or for encryption; they cannot verify RS256, so they are skipped.
    if (entry.kty !== 'RSA' || (entry.use !== undefined && entry.use !== 'sig') || (entry.alg !== undefined && entry.alg !== ALG))
        return undefined;
    // The public members only: a private JWK published by mistake verifies as its public half.
    const { n, e } = entry;
    try {
        if (typeof n !== 'string' || typeof e !== 'string')
            throw new Error('n and e must be base64url strings');
        assertModulus((await importJWK({ kty: 'RSA', n, e }, ALG)));
        return withKid({ kty: 'RSA', n, e }, entry.kid);
    }
    catch (err) {
        throw new Error(`keys[${index}] is not a valid RSA JWK`, { cause: err });
    }
}
/** Parses a key set in the upstream format or as a JWKS into a JWKS of RS256 keys. Rejects with a clear Error on bad input. */
export async function parseKeySet(json) {
    const parsed = KeySetSchema.safeParse(json);
    if (!parsed.success) {
        throw new Error('expected {"keys": [{"key": "<base64 DER spki>"}]} or a JWKS {"keys": [{"kty": "RSA", "n": ..., "e": ...}]}');
    }
    const entries = 'keys' in parsed.data ? parsed.data.keys : [parsed.data];
    const keys = [];
    for (const [i, entry] of entries.entries()) {
        const jwk = 'kty' in entry ? await fromJwk(entry, i) : await fromUpstream(entry, i);
        if (jwk !== undefined)
            keys.push(jwk);
    }
    if (keys.length === 0)
        throw new Error('the key set holds no RSA signing key');
    return { keys };
}
function describeFetchError(err) {
    const cause = err.cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
}
/** A response body up to `max` bytes; a longer one is cancelled and refused. */
async function boundedText(res, max) {
    const chunks = [];
    let size = 0;
    for await (const chunk of res.body ?? []) {
        size += chunk.byteLength;
        if (size > max) {
            await res.body?.cancel().catch(() => { });
            throw new Error(`the key endpoint answered more than ${max} bytes`);
        }
        chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
}
/**
 * Reads the raw JSON of a key source: an http(s) URL or a file path. jose's remote key set fetches
 * URLs only and reads any size; the upstream deployments also mount the keys as a file.
 */
export async function readKeySource(source, timeoutMs) {
    if (/^https?:\/\//i.test(source)) {
        let res;
        try {
            // No redirects: the configured URL is the key source, not wherever it points to.
            res = await fetch(source, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' }, redirect: 'error' });
        }
        catch (err) {
            // undici reports "fetch failed" and hides the reason (refused, DNS, TLS) in the cause.
            const reason = err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : describeFetchError(err);
            throw new Error(reason, { cause: err });
        }
        if (!res.ok)
            throw new Error(`the key endpoint answered HTTP ${res.status}`);
        return JSON.parse(await boundedText(res, KEYS_MAX_BYTES));
    }
    return JSON.parse(await readFile(source, 'utf8'));
}
const KEYS = 'keys';
/** lru-cache's ttl for an entry that is due again `ms` after it was set (it counts one stale once strictly older than its ttl). */
const expiresAfter = (ms) => Math.max(1, ms - 1);
export class KeyStore {
    opts;
    cache;
    loads = 0;
    attemptedAt = -Infinity;
    /** Why the last load failed, until one succeeds. */
    failure;
    /** express-jwt (jsonwebtoken) verifies with a KeyObject; jose selects a CryptoKey, the same one each time. */
    keyObjects = new WeakMap();
    minRefetchIntervalMs;
    timeoutMs;
    now;
    read;
    constructor(opts) {
        this.opts = opts;
        this.minRefetchIntervalMs = opts.minRefetchIntervalMs ?? KEYS_MIN_REFETCH_INTERVAL_MS;
        this.timeoutMs = opts.timeoutMs ?? KEYS_FETCH_TIMEOUT_MS;
        this.now = opts.now ?? Date.now;
        this.read = opts.read ?? readKeySource;
        this.cache = new LRUCache({
            max: 1,
            ttl: expiresAfter(opts.maxAgeMs ?? KEYS_MAX_AGE_MS),
            // The clock is read on every check (no 1 ms reuse), so an injected one is followed exactly.
            ttlResolution: 0,
            perf: { now: this.now },
            // A set past its age stays until its re-fetch answers: it is the previous keys if that fails.
            noDeleteOnStaleGet: true,
            fetchMethod: (_key, previous, { options }) => this.load(previous, options),
        });
    }
    /** Loads the keys now; concurrent callers share one fetch. Rejects when no key set could be loaded (start-up can fail fast on it). */
    async refresh() {
        await this.cache.fetch(KEYS, { forceRefresh: true });
    }
    get generation() {
        return this.loads;
    }
    async keyFor(token, kid) {
        const keys = await this.current(kid);
        // A kid the set does not name selects nothing, so every key is tried, as upstream (whose format names no kids).
        const named = kid !== undefined && keys.kids.has(kid);
        const key = await signingKey(keys.select, token, named ? kid : undefined);
        if (key === undefined)
            return undefined;
        let object = this.keyObjects.get(key);
        if (object === undefined)
            this.keyObjects.set(key, (object = KeyObject.from(key)));
        return object;
    }
    /** The key set to verify with, fetched when it is older than its age or (once per floor) when it does not name `kid`. */
    async current(kid) {
        const cooling = this.now() - this.attemptedAt < this.minRefetchIntervalMs;
        const held = this.cache.get(KEYS);
        if (held !== undefined) {
            // Upstream-format keys carry no kid; a kid can only be "unknown" to a set that names its keys.
            const unknownKid = kid !== undefined && held.kids.size > 0 && !held.kids.has(kid);
            return unknownKid && !cooling ? ((await this.cache.fetch(KEYS, { forceRefresh: true })) ?? held) : held;
        }
        // None yet, or past its age. Within the floor of an attempt (which failed: a success left a fresh
        // set) the previous keys, or the failure, are the answer, so a flood of tokens while the source
        // is down costs it one request per interval.
        if (cooling) {
            const stale = this.cache.get(KEYS, { allowStale: true });
            if (stale !== undefined)
                return stale;
            if (this.failure)
                throw this.failure;
        }
        const keys = await this.cache.fetch(KEYS);
        if (keys === undefined)
            throw new Error(`cannot load token verification keys from ${this.opts.source}`);
        return keys;
    }
    async load(previous, options) {
        this.attemptedAt = this.now();
        let jwks;
        try {
            jwks = await parseKeySet(await this.read(this.opts.source, this.timeoutMs));
        }
        catch (err) {
            this.failure = new Error(`cannot load token verification keys from ${this.opts.source}: ${err.message}`, { cause: err });
            if (previous === undefined)
                throw this.failure;
            this.opts.log?.warn({ err: this.failure, source: this.opts.source }, 'token key re-fetch failed; keeping the previous keys');
            // Kept until the floor has passed, then tried again (not for a whole age).
            options.ttl = expiresAfter(this.minRefetchIntervalMs);
            return previous;
        }
        this.failure = undefined;
        this.loads += 1;
        return { select: createLocalJWKSet(jwks), kids: new Set(jwks.keys.flatMap((k) => k.kid ?? [])) };
    }
}
/**
 * jose's choice of key for a token: the one key the header selects, else, among several, the one
 * whose signature the token carries (jose's compactVerify; undefined when none does). The single
 * key is not checked here: express-jwt's verification makes that check once.
 */
async function signingKey(select, token, kid) {
    try {
        return (await select({ alg: ALG, ...(kid === undefined ? {} : { kid }) }));
    }
    catch (err) {
        if (err instanceof errors.JWKSNoMatchingKey)
            return undefined;
        if (!(err instanceof errors.JWKSMultipleMatchingKeys))
            throw err;
        for await (const candidate of err) {
            const verified = await compactVerify(token, candidate, { algorithms: [ALG] }).then(() => true, () => false);
            if (verified)
                return candidate;
        }
        return undefined;
    }
}
/** Where the development key pair's public half lives under DATA_DIR (src/auth/dev-keys.ts). */
const devPublicKeysFile = (dataDir) => path.resolve(dataDir, 'dev-keys', 'public-keys.json');
/**
 * The key source to verify tokens with: the configured one, else (the all-in-one mode only: no
 * DATABASE_URL, outside production) the local dev key pair. A deployment (any DATABASE_URL, whatever
 * NODE_ENV says; or NODE_ENV=production) never falls back, so a forgotten setting cannot silently
 * accept tokens signed by a key on disk; nor does it name that dev key file itself. In production
 * a plain http:// source is refused: anyone on the path could hand the API their own key.
 */
export async function resolveKeySource(config) {
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
//# sourceMappingURL=keys.js.map