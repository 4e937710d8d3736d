/**
 * The development key pair: lets `npm start` and `npm run token` work without an identity provider.
 * Never used by a deployment: DATABASE_URL or NODE_ENV=production (resolveKeySource in keys.ts refuses the fallback there).
 */
import { createPublicKey, generateKeyPair, randomBytes, randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';

export interface DevKeyPair {
  readonly privateKeyPem: string;
  /** The public key in the upstream format `{"keys":[{"key": base64 DER spki}]}`, loadable by a KeyStore. */
  readonly publicKeysFile: string;
}

const generate = promisify(generateKeyPair);

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/**
 * Creates the private key once. The server, the worker and the CLI may race here on a first start:
 * link() publishes a fully written file atomically and fails if another process won, whose key we then adopt.
 */
async function ensurePrivateKey(file: string): Promise<string> {
  const existing = await readIfExists(file);
  if (existing !== undefined) return existing;
  const { privateKey } = await generate('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const tmp = `${file}.${randomUUID()}.tmp`;
  await writeFile(tmp, pem, { mode: 0o600 });
  try {
    await link(tmp, file);
    return pem;
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
    return readFile(file, 'utf8');
  } finally {
    await unlink(tmp);
  }
}

/** Creates (or reuses, across restarts) the RSA 2048 pair under `<dataDir>/dev-keys/`. */
export async function ensureDevKeyPair(dataDir: string): Promise<DevKeyPair> {
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

export interface SignOptions {
  readonly ttlSeconds: number;
  readonly kid?: string;
}

/** Signs an RS256 token whose `sub` is the user. */
export function signToken(privateKeyPem: string, user: string, opts: SignOptions): string {
  if (user.trim() === '') throw new Error('user must be a non-empty string');
  if (!Number.isInteger(opts.ttlSeconds) || opts.ttlSeconds <= 0) throw new Error('ttlSeconds must be a positive integer');
  return jwt.sign({ sub: user }, privateKeyPem, {
    algorithm: 'RS256',
    expiresIn: opts.ttlSeconds,
    // jsonwebtoken rejects `keyid: undefined`, so the option is present only when set.
    ...(opts.kid === undefined ? {} : { keyid: opts.kid }),
  });
}

/** How long a token from POST /dev/token lasts. */
export const DEV_TOKEN_TTL_SECONDS = 3600;

/** Signs development tokens: what POST /dev/token answers with, in the all-in-one mode only. */
export interface DevTokenIssuer {
  readonly ttlSeconds: number;
  /** What POST /dev/token requires in X-Dev-Token-Secret: random, made at each start, printed by `npm start` only. */
  readonly secret: string;
  sign(user: string): string;
}

interface KeySettings {
  readonly databaseUrl: string | undefined;
  readonly production: boolean;
  readonly tokenPublicKeysUrl: string | undefined;
}

/**
 * Whether tokens signed by the dev key pair are accepted: the all-in-one mode only (no DATABASE_URL),
 * outside production, and when no other key source is configured, as resolveKeySource (keys.ts) decides.
 */
export function devKeysVerify(config: KeySettings): boolean {
  return !config.production && !config.databaseUrl && config.tokenPublicKeysUrl === undefined;
}

/**
 * Whether this process may hand out development tokens over HTTP: only the all-in-one mode (no
 * DATABASE_URL: an embedded database of demo data), and only while the dev key pair verifies them.
 */
export function devTokensAllowed(config: KeySettings): boolean {
  return devKeysVerify(config);
}

/** The issuer of POST /dev/token, or undefined where devTokensAllowed says no. */
export async function devTokenIssuer(config: KeySettings & { readonly dataDir: string }): Promise<DevTokenIssuer | undefined> {
  if (!devTokensAllowed(config)) return undefined;
  const { privateKeyPem } = await ensureDevKeyPair(config.dataDir);
  return {
    ttlSeconds: DEV_TOKEN_TTL_SECONDS,
    secret: randomBytes(24).toString('base64url'),
    sign: (user) => signToken(privateKeyPem, user, { ttlSeconds: DEV_TOKEN_TTL_SECONDS }),
  };
}
