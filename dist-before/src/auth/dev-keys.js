/**
 * The development key pair: lets `npm start` and `npm run token` work without an identity provider.
 * Never used by a deployment: DATABASE_URL or NODE_ENV=production (resolveKeySource in keys.ts refuses the fallback there).
 */
import { createPublicKey, generateKeyPair, randomBytes, randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
const generate = promisify(generateKeyPair);
function isErrno(err, code) {
    return err instanceof Error && err.code === code;
}
async function readIfExists(file) {
    try {
        return await readFile(file, 'utf8');
    }
    catch (err) {
        if (isErrno(err, 'ENOENT'))
            return undefined;
        throw err;
    }
}
/**
 * Creates the private key once. The server, the worker and the CLI may race here on a first start:
 * link() publishes a fully written file atomically and fails if another process won, whose key we then adopt.
 */
async function ensurePrivateKey(file) {
    const existing = await readIfExists(file);
    if (existing !== undefined)
        return existing;
    const { privateKey } = await generate('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const tmp = `${file}.${randomUUID()}.tmp`;
    await writeFile(tmp, pem, { mode: 0o600 });
    try {
        await link(tmp, file);
        return pem;
    }
    catch (err) {
        if (!isErrno(err, 'EEXIST'))
            throw err;
        return readFile(file, 'utf8');
    }
    finally {
        await unlink(tmp);
    }
}
/** Creates (or reuses, across restarts) the RSA 2048 pair under `<dataDir>/dev-keys/`. */
export async function ensureDevKeyPair(dataDir) {
    const dir = path.join(dataDir, 'dev-keys');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const privateKeyPem = await ensurePrivateKey(path.join(dir, 'private.pem'));
    // Derived from the private key every time, so the two files can never disagree.
    const der = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' });
    const publicJson = `${JSON.stringify({ keys: [{ key: der.toString('base64') }] }, null, 2)}\n`;
    const publicKeysFile = path.join(dir, 'public-keys.json');
    if ((await readIfExists(publicKeysFile)) !== publicJson) {
        const tmp = `${publicKeysFile}.${randomUUID()}.tmp`;
        await writeFile(tmp, publicJson);
        await rename(tmp, publicKeysFile);
    }
    return { privateKeyPem, publicKeysFile };
}
/** Signs an RS256 token whose `sub` is the user. */
export function signToken(privateKeyPem, user, opts) {
    if (user.trim() === '')
        throw new Error('user must be a non-empty string');
    if (!Number.isInteger(opts.ttlSeconds) || opts.ttlSeconds <= 0)
        throw new Error('ttlSeconds must be a positive integer');
    return jwt.sign({ sub: user }, privateKeyPem, {
        algorithm: 'RS256',
        expiresIn: opts.ttlSeconds,
        // jsonwebtoken rejects `keyid: undefined`, so the option is present only when set.
        ...(opts.kid === undefined ? {} : { keyid: opts.kid }),
    });
}
/** How long a token from POST /dev/token lasts. */
export const DEV_TOKEN_TTL_SECONDS = 3600;
/**
 * Whether tokens signed by the dev key pair are accepted: the all-in-one mode only (no DATABASE_URL),
 * outside production, and when no other key source is configured, as resolveKeySource (keys.ts) decides.
 */
export function devKeysVerify(config) {
    return !config.production && !config.databaseUrl && config.tokenPublicKeysUrl === undefined;
}
/**
 * Whether this process may hand out development tokens over HTTP: only the all-in-one mode (no
 * DATABASE_URL: an embedded database of demo data), and only while the dev key pair verifies them.
 */
export function devTokensAllowed(config) {
    return devKeysVerify(config);
}
/** The issuer of POST /dev/token, or undefined where devTokensAllowed says no. */
export async function devTokenIssuer(config) {
    if (!devTokensAllowed(config))
        return undefined;
    const { privateKeyPem } = await ensureDevKeyPair(config.dataDir);
    return {
        ttlSeconds: DEV_TOKEN_TTL_SECONDS,
        secret: randomBytes(24).toString('base64url'),
        sign: (user) => signToken(privateKeyPem, user, { ttlSeconds: DEV_TOKEN_TTL_SECONDS }),
    };
}
//# sourceMappingURL=dev-keys.js.map