import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { DEV_TOKEN_TTL_SECONDS, devKeysVerify, devTokenIssuer, devTokensAllowed, ensureDevKeyPair, signToken } from '../../../src/auth/dev-keys.ts';
import { KeyStore } from '../../../src/auth/keys.ts';
import { loadConfig } from '../../../src/core/config.ts';

describe('the development key pair', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-devkeys-'));
  });
  afterEach(async () => rm(dataDir, { recursive: true, force: true }));

  it('is created under <dataDir>/dev-keys with a private key only its owner can read', async () => {
    const pair = await ensureDevKeyPair(dataDir);
    expect(pair.publicKeysFile).to.equal(path.join(dataDir, 'dev-keys', 'public-keys.json'));
    expect(pair.privateKeyPem).to.match(/^-----BEGIN PRIVATE KEY-----/);
    expect((await stat(path.join(dataDir, 'dev-keys', 'private.pem'))).mode & 0o077).to.equal(0);
  });

  it('is reused across restarts', async () => {
    const first = await ensureDevKeyPair(dataDir);
    const again = await ensureDevKeyPair(dataDir);
    expect(again.privateKeyPem).to.equal(first.privateKeyPem);
  });

  it('ends up as one pair when several processes create it at once', async () => {
    const pairs = await Promise.all([1, 2, 3, 4].map(() => ensureDevKeyPair(dataDir)));
    expect(new Set(pairs.map((p) => p.privateKeyPem)).size).to.equal(1);
  });

  it('publishes its public key in the upstream format, which verifies the tokens it signs', async () => {
    const pair = await ensureDevKeyPair(dataDir);
    const json: unknown = JSON.parse(await readFile(pair.publicKeysFile, 'utf8'));
    expect(Object.keys(json as object)).to.deep.equal(['keys']);
    const token = signToken(pair.privateKeyPem, 'alice', { ttlSeconds: 60 });
    const key = await new KeyStore({ source: pair.publicKeysFile }).keyFor(token, undefined);
    const payload = jwt.verify(token, key!, { algorithms: ['RS256'] }) as jwt.JwtPayload;
    expect(payload.sub).to.equal('alice');
  });
});

describe('signToken', () => {
  const pem = (async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-sign-'));
    const { privateKeyPem } = await ensureDevKeyPair(dir);
    await rm(dir, { recursive: true, force: true });
    return privateKeyPem;
  })();

  it('signs RS256 with sub, iat and exp = iat + ttl', async () => {
    const decoded = jwt.decode(signToken(await pem, 'bob', { ttlSeconds: 90 }), { complete: true });
    expect(decoded?.header.alg).to.equal('RS256');
    expect(decoded?.header.kid).to.equal(undefined);
    const payload = decoded?.payload as jwt.JwtPayload;
    expect(payload.sub).to.equal('bob');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).to.equal(90);
  });

  it('puts the kid in the header when given one', async () => {
    expect(jwt.decode(signToken(await pem, 'bob', { ttlSeconds: 60, kid: 'dev-1' }), { complete: true })?.header.kid).to.equal('dev-1');
  });

  it('refuses an empty user and a ttl that is not a positive integer', async () => {
    expect(() => signToken('unused', ' ', { ttlSeconds: 60 })).to.throw('user must be a non-empty string');
    for (const ttlSeconds of [0, -1, 1.5, NaN]) {
      expect(() => signToken('unused', 'bob', { ttlSeconds }), String(ttlSeconds)).to.throw('ttlSeconds must be a positive integer');
    }
  });
});

describe('development tokens over HTTP (POST /dev/token)', () => {
  const config = (env: Record<string, string> = {}) => loadConfig({ CONF_DIR: 'conf', ...env });
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-devtokens-'));
  });
  afterEach(async () => rm(dataDir, { recursive: true, force: true }));

  it('are handed out in the all-in-one mode: no DATABASE_URL, outside production, the dev key pair verifying', () => {
    expect(devTokensAllowed(config())).to.equal(true);
    expect(devKeysVerify(config())).to.equal(true);
  });

  it('are never handed out with DATABASE_URL set, whatever NODE_ENV says: the dev key pair verifies nothing there', () => {
    const external = config({ DATABASE_URL: 'postgres://u:p@db.example/eventstats', NODE_ENV: 'staging' });
    expect(devTokensAllowed(external)).to.equal(false);
    expect(devKeysVerify(external)).to.equal(false);
  });

  it('are never handed out in production, nor signed there', () => {
    const production = config({ NODE_ENV: 'production', TOKEN_PUBLIC_KEYS_URL: 'https://idp.example/keys' });
    expect(devTokensAllowed(production)).to.equal(false);
    expect(devKeysVerify(production)).to.equal(false);
  });

  it('are not handed out when another key source verifies tokens (they would be refused)', () => {
    const idp = config({ TOKEN_PUBLIC_KEYS_URL: 'https://idp.example/keys' });
    expect(devTokensAllowed(idp)).to.equal(false);
    expect(devKeysVerify(idp)).to.equal(false);
  });

  it('are signed by the dev key pair for an hour, which its public key verifies', async () => {
    const issuer = await devTokenIssuer({ ...config(), dataDir });
    expect(issuer?.ttlSeconds).to.equal(DEV_TOKEN_TTL_SECONDS);
    const token = issuer!.sign('carol');
    const key = await new KeyStore({ source: (await ensureDevKeyPair(dataDir)).publicKeysFile }).keyFor(token, undefined);
    const payload = jwt.verify(token, key!, { algorithms: ['RS256'] }) as jwt.JwtPayload;
    expect(payload.sub).to.equal('carol');
    expect(payload.exp! - payload.iat!).to.equal(DEV_TOKEN_TTL_SECONDS);
  });

  it('have no issuer, and no key pair is made, where they are not handed out', async () => {
    expect(await devTokenIssuer({ ...config({ DATABASE_URL: 'postgres://u:p@db.example/eventstats' }), dataDir })).to.equal(undefined);
    expect(await readdir(dataDir)).to.deep.equal([]);
  });
});
