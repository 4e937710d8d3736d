import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { KEYS_MAX_AGE_MS, KEYS_MAX_BYTES, KeyStore, parseKeySet, readKeySource, resolveKeySource } from '../../../src/auth/keys.ts';

const first = generateKeyPairSync('rsa', { modulusLength: 2048 });
const second = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const der = (key: KeyObject) => key.export({ type: 'spki', format: 'der' }).toString('base64');
const upstream = (...keys: KeyObject[]) => ({ keys: keys.map((k) => ({ key: der(k) })) });
const jwk = (kid: string, key: KeyObject) => ({ ...key.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' });
const same = (a: KeyObject | undefined, b: KeyObject) => a !== undefined && a.equals(b);

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
  it('reads the upstream format of base64 DER public keys', () => {
    const keys = parseKeySet(upstream(first.publicKey, second.publicKey));
    expect(keys).to.have.length(2);
    expect(same(keys[0]?.key, first.publicKey)).to.equal(true);
    expect(same(keys[1]?.key, second.publicKey)).to.equal(true);
    expect(keys[0]?.kid).to.equal(undefined);
  });

  it('reads the upstream single-key object {"key": ...}', () => {
    const keys = parseKeySet({ key: der(first.publicKey) });
    expect(keys).to.have.length(1);
    expect(same(keys[0]?.key, first.publicKey)).to.equal(true);
  });

  it('reads a JWKS and keeps each key id', () => {
    const keys = parseKeySet({ keys: [jwk('k1', first.publicKey), jwk('k2', second.publicKey)] });
    expect(keys.map((k) => k.kid)).to.deep.equal(['k1', 'k2']);
    expect(same(keys[1]?.key, second.publicKey)).to.equal(true);
  });

  it('skips JWKS entries that cannot verify RS256, such as EC or encryption keys', () => {
    const keys = parseKeySet({
      keys: [{ ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec' }, { ...jwk('enc', second.publicKey), use: 'enc' }, jwk('sig', first.publicKey)],
    });
    expect(keys.map((k) => k.kid)).to.deep.equal(['sig']);
  });

  it('rejects input that is neither format', () => {
    for (const bad of [null, 'keys', [], {}, { keys: [] }, { keys: [{}] }, { keys: [{ key: '' }] }]) {
      expect(() => parseKeySet(bad), JSON.stringify(bad)).to.throw(/expected \{"keys"/);
    }
  });

  it('rejects an upstream key that is not base64 DER, naming its position', () => {
    expect(() => parseKeySet({ keys: [{ key: der(first.publicKey) }, { key: 'bm90IGEga2V5' }] })).to.throw(/keys\[1\]\.key is not a base64 DER/);
  });

  it('rejects an upstream key that is not RSA', () => {
    expect(() => parseKeySet({ keys: [{ key: der(ec.publicKey) }] })).to.throw(/keys\[0\] is an ec key; RS256 needs RSA/);
  });

  it('rejects a broken RSA JWK and a JWKS without any RSA signing key', () => {
    expect(() => parseKeySet({ keys: [{ kty: 'RSA', kid: 'x', n: 'AQAB' }] })).to.throw(/keys\[0\] is not a valid RSA JWK/);
    expect(() => parseKeySet({ keys: [ec.publicKey.export({ format: 'jwk' })] })).to.throw(/no RSA signing key/);
  });
});

describe('KeyStore', () => {
  const jwks = (...entries: [string, KeyObject][]) => ({ keys: entries.map(([kid, key]) => jwk(kid, key)) });

  it('loads the keys on first use and keeps them for 28 minutes', async () => {
    const { source, read } = fakeSource(upstream(first.publicKey));
    const c = clock();
    const store = new KeyStore({ source: 'fake', read, now: c.now });
    await store.keysFor(undefined);
    c.t += KEYS_MAX_AGE_MS - 1;
    await store.keysFor(undefined);
    expect(source.reads).to.equal(1);
    c.t += 1;
    source.content = upstream(second.publicKey);
    const keys = await store.keysFor(undefined);
    expect(source.reads).to.equal(2);
    expect(same(keys[0], second.publicKey)).to.equal(true);
  });

  it('offers every key to a token without a kid, in file order', async () => {
    const { read } = fakeSource(upstream(first.publicKey, second.publicKey));
    const keys = await new KeyStore({ source: 'fake', read }).keysFor(undefined);
    expect(keys).to.have.length(2);
    expect(same(keys[0], first.publicKey) && same(keys[1], second.publicKey)).to.equal(true);
  });

  it('puts the key named by the token kid first and still offers the others', async () => {
    const { read } = fakeSource(jwks(['k1', first.publicKey], ['k2', second.publicKey]));
    const keys = await new KeyStore({ source: 'fake', read }).keysFor('k2');
    expect(keys).to.have.length(2);
    expect(same(keys[0], second.publicKey) && same(keys[1], first.publicKey)).to.equal(true);
  });

  it('re-fetches when a token names an unknown kid and finds the rotated key', async () => {
    const { source, read } = fakeSource(jwks(['k1', first.publicKey]));
    const c = clock();
    const store = new KeyStore({ source: 'fake', read, now: c.now, minRefetchIntervalMs: 10_000 });
    await store.keysFor('k1');
    source.content = jwks(['k1', first.publicKey], ['k2', second.publicKey]);
    c.t += 10_000;
    const keys = await store.keysFor('k2');
    expect(source.reads).to.equal(2);
    expect(same(keys[0], second.publicKey)).to.equal(true);
  });

  it('does not re-fetch for unknown kids more than once per minimum interval', async () => {
    const { source, read } = fakeSource(jwks(['k1', first.publicKey]));
    const c = clock();
    const store = new KeyStore({ source: 'fake', read, now: c.now, minRefetchIntervalMs: 10_000 });
    await store.keysFor('k1');
    c.t += 10_000;
    for (const kid of ['a', 'b', 'c']) await store.keysFor(kid);
    c.t += 9_999;
    await store.keysFor('d');
    expect(source.reads).to.equal(2);
  });

  it('does not re-fetch for a kid when the key set names no kids, as in the upstream format', async () => {
    const { source, read } = fakeSource(upstream(first.publicKey));
    const c = clock();
    const store = new KeyStore({ source: 'fake', read, now: c.now, minRefetchIntervalMs: 10_000 });
    await store.keysFor('k1');
    c.t += 60_000;
    const keys = await store.keysFor('k1');
    expect(source.reads).to.equal(1);
    expect(same(keys[0], first.publicKey)).to.equal(true);
  });

  it('keeps the old keys and logs a warning when a re-fetch fails', async () => {
    const { source, read } = fakeSource(upstream(first.publicKey));
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const c = clock();
    const store = new KeyStore({ source: 'https://keys.invalid/keys', read, now: c.now, log });
    await store.keysFor(undefined);
    source.down = true;
    c.t += KEYS_MAX_AGE_MS;
    const keys = await store.keysFor(undefined);
    expect(source.reads).to.equal(2);
    expect(same(keys[0], first.publicKey)).to.equal(true);
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
    await store.keysFor(undefined);
    source.down = true;
    c.t += KEYS_MAX_AGE_MS;
    await store.keysFor(undefined);
    await store.keysFor(undefined);
    expect(source.reads).to.equal(2);
    source.down = false;
    c.t += 10_000;
    await store.keysFor(undefined);
    expect(source.reads).to.equal(3);
  });

  it('rejects, naming the source, when no key could ever be loaded', async () => {
    const { read } = fakeSource({ keys: [] });
    const store = new KeyStore({ source: '/etc/keys.json', read });
    let error: unknown;
    await store.keysFor(undefined).catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.match(/^cannot load token verification keys from \/etc\/keys\.json: expected/);
  });

  it('retries a failed first load at most once per minimum interval, answering the last failure meanwhile', async () => {
    const { source, read } = fakeSource(upstream(first.publicKey));
    source.down = true;
    const c = clock();
    const store = new KeyStore({ source: 'fake', read, now: c.now, minRefetchIntervalMs: 10_000 });
    const failures: string[] = [];
    for (let i = 0; i < 50; i += 1) await store.keysFor(`kid-${i}`).catch((err: Error) => failures.push(err.message));
    expect(failures).to.have.length(50);
    expect(new Set(failures)).to.deep.equal(new Set(['cannot load token verification keys from fake: connection refused']));
    expect(source.reads).to.equal(1);
    source.down = false;
    c.t += 9_999;
    await store.keysFor(undefined).catch(() => {});
    expect(source.reads).to.equal(1);
    c.t += 1;
    expect(await store.keysFor(undefined)).to.have.length(1);
    expect(source.reads).to.equal(2);
  });

  it('shares one in-flight fetch between concurrent callers', async () => {
    const { source, read } = fakeSource(upstream(first.publicKey));
    let open!: () => void;
    source.gate = new Promise((resolve) => (open = resolve));
    const store = new KeyStore({ source: 'fake', read });
    const pending = Promise.all(Array.from({ length: 5 }, () => store.keysFor(undefined)));
    open();
    const results = await pending;
    expect(source.reads).to.equal(1);
    expect(results.every((keys) => keys.length === 1)).to.equal(true);
  });

  it('reads a key file from disk', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-keys-'));
    try {
      const file = path.join(dir, 'keys.json');
      await writeFile(file, JSON.stringify(upstream(second.publicKey)));
      const keys = await new KeyStore({ source: file }).keysFor(undefined);
      expect(same(keys[0], second.publicKey)).to.equal(true);
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
    expect(parseKeySet(JSON.parse(await readFile(source, 'utf8')))).to.have.length(1);
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
