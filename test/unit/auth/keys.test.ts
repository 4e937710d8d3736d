import { createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { pino } from 'pino';
import { KEYS_MAX_AGE_MS, KEYS_MAX_BYTES, KeyStore, parseKeySet, readKeySource, resolveKeySource } from '../../../src/auth/keys.ts';

const first = generateKeyPairSync('rsa', { modulusLength: 2048 });
const second = generateKeyPairSync('rsa', { modulusLength: 2048 });
const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const der = (key: KeyObject) => key.export({ type: 'spki', format: 'der' }).toString('base64');
const upstream = (...keys: KeyObject[]) => ({ keys: keys.map((k) => ({ key: der(k) })) });
const jwk = (kid: string, key: KeyObject) => ({ ...key.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' });
const same = (a: KeyObject | undefined, b: KeyObject) => a !== undefined && a.equals(b);
/** A token signed by `pair`, with `kid` in its header when given. */
const signed = (pair: { privateKey: KeyObject }, kid?: string) => jwt.sign({ sub: 'alice' }, pair.privateKey, { algorithm: 'RS256', ...(kid === undefined ? {} : { keyid: kid }) });
/** The public keys of a parsed set, as KeyObjects in set order. */
const publicKeys = (set: { keys: object[] }) => set.keys.map((k) => createPublicKey({ key: k as JsonWebKey, format: 'jwk' }));

/** A key source whose content, availability and timing each test controls. */
function fakeSource(initial: unknown) {
  const source = { content: initial, down: false, reads: 0, gate: undefined as Promise<void> | undefined };
  const read = async () => {
    source.reads += 1;
    await source.gate;
    if (source.down) throw new Error('connection refused');
    return source.content;
  };
  return { source, read };
}

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('parseKeySet', () => {
  it('reads the upstream format of base64 DER public keys', async () => {
    const set = await parseKeySet(upstream(first.publicKey, second.publicKey));
    const keys = publicKeys(set);
    expect(keys).to.have.length(2);
    expect(same(keys[0], first.publicKey)).to.equal(true);
    expect(same(keys[1], second.publicKey)).to.equal(true);
    expect(set.keys[0]?.kid).to.equal(undefined);
  });

  it('reads the upstream single-key object {"key": ...}', async () => {
    const keys = publicKeys(await parseKeySet({ key: der(first.publicKey) }));
    expect(keys).to.have.length(1);
    expect(same(keys[0], first.publicKey)).to.equal(true);
  });

  it('reads a JWKS and keeps each key id', async () => {
    const set = await parseKeySet({ keys: [jwk('k1', first.publicKey), jwk('k2', second.publicKey)] });
    expect(set.keys.map((k) => k.kid)).to.deep.equal(['k1', 'k2']);
    expect(same(publicKeys(set)[1], second.publicKey)).to.equal(true);
  });

  it('skips JWKS entries that cannot verify RS256, such as EC, encryption or other-algorithm keys', async () => {
    const set = await parseKeySet({
      keys: [
        { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec' },
        { ...jwk('enc', second.publicKey), use: 'enc' },
        { ...jwk('ps', second.publicKey), alg: 'PS256' },
        jwk('sig', first.publicKey),
      ],
    });
    expect(set.keys.map((k) => k.kid)).to.deep.equal(['sig']);
  });

  it('keeps only the public members of a JWK', async () => {
    const set = await parseKeySet({ keys: [{ ...first.privateKey.export({ format: 'jwk' }), kid: 'k1' }] });
    expect(Object.keys(set.keys[0] ?? {}).sort()).to.deep.equal(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(same(publicKeys(set)[0], first.publicKey)).to.equal(true);
  });

  it('rejects input that is neither format', async () => {
    for (const bad of [null, 'keys', [], {}, { keys: [] }, { keys: [{}] }, { keys: [{ key: '' }] }]) {
      const error = await parseKeySet(bad).catch((err: unknown) => err);
      expect((error as Error).message, JSON.stringify(bad)).to.match(/expected \{"keys"/);
    }
  });

  it('rejects an upstream key that is not base64 DER, naming its position', async () => {
    const error = await parseKeySet({ keys: [{ key: der(first.publicKey) }, { key: 'bm90IGEga2V5' }] }).catch((err: unknown) => err);
    expect((error as Error).message).to.match(/keys\[1\]\.key is not a base64 DER/);
  });

  it('rejects an upstream key that is not RSA', async () => {
    const error = await parseKeySet({ keys: [{ key: der(ec.publicKey) }] }).catch((err: unknown) => err);
    expect((error as Error).message).to.match(/keys\[0\] is an ec key; RS256 needs RSA/);
  });

  it('rejects an RSA key shorter than 2048 bits, as jose does for RS256', async () => {
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const error = await parseKeySet({ keys: [{ key: der(short.publicKey) }] }).catch((err: unknown) => err);
    expect((error as Error).message).to.match(/keys\[0\]: .*2048 bits/);
  });

  it('rejects a broken RSA JWK and a JWKS without any RSA signing key', async () => {
    const broken = await parseKeySet({ keys: [{ kty: 'RSA', kid: 'x', n: 'AQAB' }] }).catch((err: unknown) => err);
    expect((broken as Error).message).to.match(/keys\[0\] is not a valid RSA JWK/);
    const none = await parseKeySet({ keys: [ec.publicKey.export({ format: 'jwk' })] }).catch((err: unknown) => err);
    expect((none as Error).message).to.match(/no RSA signing key/);
  });
});

describe('KeyStore', () => {
  const jwks = (...entries: [string, KeyObject][]) => ({ keys: entries.map(([kid, key]) => jwk(kid, key)) });

  it('loads the keys on first use and keeps them for 28 minutes', async () => {
    const { source, read } = fakeSource(upstream(first.publicKey));
    const c = clock();
    const store = new KeyStore({ source: 'fake', read, now: c.now });
    await store.keyFor(signed(first), undefined);
    c.t += KEYS_MAX_AGE_MS - 1;
    await store.keyFor(signed(first), undefined);
    expect(source.reads).to.equal(1);
    c.t += 1;
    source.content = upstream(second.publicKey);
    const key = await store.keyFor(signed(second), undefined);
    expect(source.reads).to.equal(2);
    expect(same(key, second.publicKey)).to.equal(true);
  });

  it('finds the key that signed a token without a kid among every key of the set, and none for a foreign key', async () => {
    const { read } = fakeSource(upstream(first.publicKey, second.publicKey));
    const store = new KeyStore({ source: 'fake', read });
    expect(same(await store.keyFor(signed(first), undefined), first.publicKey)).to.equal(true);
    expect(same(await store.keyFor(signed(second), undefined), second.publicKey)).to.equal(true);
    expect(await store.keyFor(signed(foreign), undefined)).to.equal(undefined);
  });

  it('selects the key the token kid names, and tries every key for a kid the set does not name', async () => {
    const { read } = fakeSource(jwks(['k1', first.publicKey], ['k2', second.publicKey]));
    const store = new KeyStore({ source: 'fake', read });
    expect(same(await store.keyFor(signed(second, 'k2'), 'k2'), second.publicKey)).to.equal(true);
    expect(same(await store.keyFor(signed(second, 'k9'), 'k9'), second.publicKey)).to.equal(true);
    expect(await store.keyFor(signed(foreign, 'k9'), 'k9')).to.equal(undefined);
  });

  it('answers the key a named kid selects even when another key signed the token, so the verification refuses it', async () => {
    const { read } = fakeSource(jwks(['k1', first.publicKey], ['k2', second.publicKey]));
    const key = await new KeyStore({ source: 'fake', read }).keyFor(signed(second, 'k1'), 'k1');
    expect(same(key, first.publicKey)).to.equal(true);
    expect(() => jwt.verify(signed(second, 'k1'), key!, { algorithms: ['RS256'] })).to.throw(/invalid signature/);
  });

  it('re-fetches when a token names an unknown kid and finds the rotated key', async () => {
    const { source, read } = fakeSource(jwks(['k1', first.publicKey]));
    const c = clock();
    const store = new KeyStore({ source: 'fake', read, now: c.now, minRefetchIntervalMs: 10_000 });
    await store.keyFor(signed(first, 'k1'), 'k1');
    const generation = store.generation;
    source.content = jwks(['k1', first.publicKey], ['k2', second.publicKey]);
    c.t += 10_000;
    const key = await store.keyFor(signed(second, 'k2'), 'k2');
    expect(source.reads).to.equal(2);
    expect(same(key, second.publicKey)).to.equal(true);
    expect(store.generation).to.not.equal(generation);
  });

  it('does not re-fetch for unknown kids more than once per minimum interval', async () => {
    const { source, read } = fakeSource(jwks(['k1', first.publicKey]));
    const c = clock();
    const store = new KeyStore({ source: 'fake', read, now: c.now, minRefetchIntervalMs: 10_000 });
    await store.keyFor(signed(first, 'k1'), 'k1');
    c.t += 10_000;
    for (const kid of ['a', 'b', 'c']) await store.keyFor(signed(first, kid), kid);
    c.t += 9_999;
    await store.keyFor(signed(first, 'd'), 'd');
    expect(source.reads).to.equal(2);
  });

  it('does not re-fetch for a kid when the key set names no kids, as in the upstream format', async () => {
    const { source, read } = fakeSource(upstream(first.publicKey));
    const c = clock();
    const store = new KeyStore({ source: 'fake', read, now: c.now, minRefetchIntervalMs: 10_000 });
    await store.keyFor(signed(first, 'k1'), 'k1');
    c.t += 60_000;
    const key = await store.keyFor(signed(first, 'k1'), 'k1');
    expect(source.reads).to.equal(1);
    expect(same(key, first.publicKey)).to.equal(true);
  });

  it('keeps the old keys and logs a warning when a re-fetch fails', async () => {
    const { source, read } = fakeSource(upstream(first.publicKey));
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const c = clock();
    const store = new KeyStore({ source: 'https://keys.invalid/keys', read, now: c.now, log });
    await store.keyFor(signed(first), undefined);
    const generation = store.generation;
    source.down = true;
    c.t += KEYS_MAX_AGE_MS;
    const key = await store.keyFor(signed(first), undefined);
    expect(source.reads).to.equal(2);
    expect(same(key, first.publicKey)).to.equal(true);
    expect(store.generation).to.equal(generation);
    expect(lines).to.have.length(1);
    const entry = JSON.parse(lines[0] ?? '{}') as { msg: string; source: string; err: { message: string } };
    expect(entry.msg).to.equal('token key re-fetch failed; keeping the previous keys');
    expect(entry.source).to.equal('https://keys.invalid/keys');
    expect(entry.err.message).to.match(/cannot load token verification keys from .*: connection refused/);
  });

  it('retries a failed re-fetch only after the minimum interval', async () => {
    const { source, read } = fakeSource(upstream(first.publicKey));
    const c = clock();
    const store = new KeyStore({ source: 'fake', read, now: c.now, minRefetchIntervalMs: 10_000 });
    await store.keyFor(signed(first), undefined);
    source.down = true;
    c.t += KEYS_MAX_AGE_MS;
    await store.keyFor(signed(first), undefined);
    await store.keyFor(signed(first), undefined);
    expect(source.reads).to.equal(2);
    source.down = false;
    c.t += 10_000;
    await store.keyFor(signed(first), undefined);
    expect(source.reads).to.equal(3);
  });

  it('rejects, naming the source, when no key could ever be loaded', async () => {
    const { read } = fakeSource({ keys: [] });
    const store = new KeyStore({ source: '/etc/keys.json', read });
    let error: unknown;
    await store.keyFor(signed(first), undefined).catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.match(/^cannot load token verification keys from \/etc\/keys\.json: expected/);
  });

  it('retries a failed first load at most once per minimum interval, answering the last failure meanwhile', async () => {
    const { source, read } = fakeSource(upstream(first.publicKey));
    source.down = true;
    const c = clock();
    const store = new KeyStore({ source: 'fake', read, now: c.now, minRefetchIntervalMs: 10_000 });
    const failures: string[] = [];
    for (let i = 0; i < 50; i += 1) await store.keyFor(signed(first, `kid-${i}`), `kid-${i}`).catch((err: Error) => failures.push(err.message));
    expect(failures).to.have.length(50);
    expect(new Set(failures)).to.deep.equal(new Set(['cannot load token verification keys from fake: connection refused']));
    expect(source.reads).to.equal(1);
    source.down = false;
    c.t += 9_999;
    await store.keyFor(signed(first), undefined).catch(() => {});
    expect(source.reads).to.equal(1);
    c.t += 1;
    expect(same(await store.keyFor(signed(first), undefined), first.publicKey)).to.equal(true);
    expect(source.reads).to.equal(2);
  });

  it('shares one in-flight fetch between concurrent callers', async () => {
    const { source, read } = fakeSource(upstream(first.publicKey));
    let open!: () => void;
    source.gate = new Promise((resolve) => (open = resolve));
    const store = new KeyStore({ source: 'fake', read });
    const pending = Promise.all(Array.from({ length: 5 }, () => store.keyFor(signed(first), undefined)));
    open();
    const results = await pending;
    expect(source.reads).to.equal(1);
    expect(results.every((key) => same(key, first.publicKey))).to.equal(true);
  });

  it('refresh() rejects when the first load fails, so start-up can stop on it', async () => {
    const { source, read } = fakeSource(upstream(first.publicKey));
    source.down = true;
    const error = await new KeyStore({ source: 'fake', read }).refresh().catch((err: unknown) => err);
    expect((error as Error).message).to.equal('cannot load token verification keys from fake: connection refused');
  });

  it('reads a key file from disk', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-keys-'));
    try {
      const file = path.join(dir, 'keys.json');
      await writeFile(file, JSON.stringify(upstream(second.publicKey)));
      const key = await new KeyStore({ source: file }).keyFor(signed(second), undefined);
      expect(same(key, second.publicKey)).to.equal(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('resolveKeySource', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-keysource-'));
  });
  afterEach(async () => rm(dataDir, { recursive: true, force: true }));

  it('returns the configured source, in production too', async () => {
    const source = await resolveKeySource({ tokenPublicKeysUrl: 'https://idp.example/keys', production: true, dataDir });
    expect(source).to.equal('https://idp.example/keys');
  });

  it('falls back to the development public key file outside production', async () => {
    const source = await resolveKeySource({ tokenPublicKeysUrl: undefined, production: false, dataDir });
    expect(source).to.equal(path.join(dataDir, 'dev-keys', 'public-keys.json'));
    expect((await parseKeySet(JSON.parse(await readFile(source, 'utf8')))).keys).to.have.length(1);
  });

  it('refuses the development key in production', async () => {
    let error: unknown;
    await resolveKeySource({ tokenPublicKeysUrl: undefined, production: true, dataDir }).catch((err: unknown) => (error = err));
    expect((error as Error).message).to.equal('NODE_ENV=production requires token_public_keys_url (config.json) or TOKEN_PUBLIC_KEYS_URL');
    expect(existsSync(path.join(dataDir, 'dev-keys'))).to.equal(false);
  });

  it('refuses the development key with DATABASE_URL set whatever NODE_ENV says, and creates no key', async () => {
    let error: unknown;
    await resolveKeySource({ tokenPublicKeysUrl: undefined, production: false, databaseUrl: 'postgres://db/x', dataDir }).catch((err: unknown) => (error = err));
    expect((error as Error).message).to.match(/^DATABASE_URL is set: a deployment requires token_public_keys_url/);
    expect(existsSync(path.join(dataDir, 'dev-keys'))).to.equal(false);
  });

  it('refuses the development key file named as the key source of a deployment', async () => {
    let error: unknown;
    const devFile = path.join(dataDir, 'dev-keys', 'public-keys.json');
    await resolveKeySource({ tokenPublicKeysUrl: devFile, production: false, databaseUrl: 'postgres://db/x', dataDir }).catch((err: unknown) => (error = err));
    expect((error as Error).message).to.match(/never verifies with the development key pair/);
  });

  it('refuses a plain http:// key URL in production, and takes https://', async () => {
    let error: unknown;
    await resolveKeySource({ tokenPublicKeysUrl: 'http://idp.example/keys', production: true, dataDir }).catch((err: unknown) => (error = err));
    expect((error as Error).message).to.match(/refuses a plain http:\/\/ token key source/);
    expect(await resolveKeySource({ tokenPublicKeysUrl: 'https://idp.example/keys', production: true, dataDir })).to.equal('https://idp.example/keys');
  });
});

describe('readKeySource over HTTP', () => {
  let server: http.Server;
  let base: string;
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: '/big' }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [{ key: 'x'.repeat(KEYS_MAX_BYTES) }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('does not follow a redirect: the configured URL is the key source', async () => {
    let error: unknown;
    await readKeySource(`${base}/moved`, 2_000).catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(Error);
  });

  it('refuses a key set larger than KEYS_MAX_BYTES', async () => {
    let error: unknown;
    await readKeySource(`${base}/big`, 2_000).catch((err: unknown) => (error = err));
    expect((error as Error).message).to.equal(`the key endpoint answered more than ${KEYS_MAX_BYTES} bytes`);
  });
});
