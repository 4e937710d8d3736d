/**
 * The authentication middleware end to end: keys served by a real HTTP endpoint on 127.0.0.1,
 * requests through a tiny express app. No database involved.
 */
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { KeyStore, readKeySource, type KeyProvider } from '../../src/auth/keys.ts';
import { VerifiedTokens } from '../../src/auth/verified-tokens.ts';
import { authenticate, userOf, type TokenRules } from '../../src/http/auth.ts';
import { errorHandler } from '../../src/http/errors.ts';
import { onlyError } from '../helpers/http.ts';

const current = generateKeyPairSync('rsa', { modulusLength: 2048 });
const next = generateKeyPairSync('rsa', { modulusLength: 2048 });
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });

const der = (key: KeyObject) => key.export({ type: 'spki', format: 'der' }).toString('base64');
const now = () => Math.floor(Date.now() / 1000);

function rs256(key: KeyObject, payload: object, kid?: string): string {
  return jwt.sign(payload, key, { algorithm: 'RS256', ...(kid === undefined ? {} : { keyid: kid }) });
}

/** Assembles a token by hand, for the headers and signatures jsonwebtoken refuses to produce. */
function craft(header: object, payload: object, signWith: (input: string) => string): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signWith(input)}`;
}

/** The key endpoint: serves `body` (or `status`), counts hits, and can hold its answers. */
function keyServer() {
  const state = { body: {} as unknown, status: 200, hits: 0, hold: false };
  const server = http.createServer((_req, res) => {
    state.hits += 1;
    if (state.hold) return; // never answers: exercises the fetch timeout
    res.writeHead(state.status, { 'content-type': 'application/json' }).end(JSON.stringify(state.body));
  });
  return {
    state,
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`,
    start: () => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    server,
  };
}

/** The middleware with the app's own error renderer, so failures arrive in the real envelope. */
function appWith(keys: KeyProvider, verified?: VerifiedTokens, rules?: TokenRules) {
  const app = express();
  app.get('/whoami', authenticate(keys, verified, rules), (_req, res) => {
    res.json({ user: userOf(res) });
  });
  app.use(errorHandler());
  return app;
}

describe('bearer-token authentication over HTTP', () => {
  const keys = keyServer();
  let app: express.Express;

  before(async () => {
    keys.state.body = { keys: [{ key: der(current.publicKey) }, { key: der(next.publicKey) }] };
    await keys.start();
    app = appWith(new KeyStore({ source: keys.url() }));
  });
  after(async () => keys.stop());

  describe('accepts a valid RS256 token', () => {
    const token = rs256(current.privateKey, { sub: 'alice', exp: now() + 600 });

    it('from Authorization: Bearer, and exposes its sub as the user', async () => {
      const res = await request(app).get('/whoami').set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.body).to.deep.equal({ user: 'alice' });
    });

    it('from the upstream bare bearer header', async () => {
      const res = await request(app).get('/whoami').set('bearer', token).expect(200);
      expect(res.body).to.deep.equal({ user: 'alice' });
    });

    it('with a lower-case scheme name', async () => {
      await request(app).get('/whoami').set('Authorization', `bearer ${token}`).expect(200, { user: 'alice' });
    });

    it('signed by the second key of the set, as during a rotation', async () => {
      const rotated = rs256(next.privateKey, { sub: 'bob' });
      const res = await request(app).get('/whoami').set('Authorization', `Bearer ${rotated}`).expect(200);
      expect(res.body).to.deep.equal({ user: 'bob' });
    });

    it('with a kid the upstream key set does not name, trying every key', async () => {
      const withKid = rs256(next.privateKey, { sub: 'bob' }, 'some-kid');
      await request(app).get('/whoami').set('Authorization', `Bearer ${withKid}`).expect(200, { user: 'bob' });
    });
  });

  describe('answers 401 with a clear message that never contains the token', () => {
    async function rejected(token: string | undefined, message: string | RegExp, header = 'Authorization') {
      const req = request(app).get('/whoami');
      if (token !== undefined) req.set(header, header === 'Authorization' ? `Bearer ${token}` : token);
      const res = await req.expect(401);
      expect(res.body.success).to.equal(false);
      expect(res.body.statusCode).to.equal(401);
      expect(res.body.errors).to.have.length(1);
      expect(res.body.errors[0].type).to.equal('auth');
      if (typeof message === 'string') expect(res.body.errors[0].message).to.equal(message);
      else expect(res.body.errors[0].message).to.match(message);
      if (token !== undefined && token !== '') expect(JSON.stringify(res.body)).not.to.include(token);
    }

    it('when no token is sent', async () => {
      await rejected(undefined, 'missing bearer token');
      await rejected('', 'missing bearer token', 'bearer');
    });

    it('when the Authorization header uses another scheme', async () => {
      const res = await request(app).get('/whoami').set('Authorization', 'Basic YWxpY2U6c2VjcmV0').expect(401);
      expect(res.body.errors[0].message).to.equal("malformed Authorization header: expected 'Bearer <token>'");
      expect(JSON.stringify(res.body)).not.to.include('YWxpY2U6c2VjcmV0');
    });

    it('when the token is malformed', async () => {
      await rejected('not-a-jwt', 'malformed token');
      await rejected('abc.def.ghi', 'malformed token');
    });

    it('when the token is signed by another key pair', async () => {
      await rejected(rs256(stranger.privateKey, { sub: 'mallory' }), 'invalid token signature');
    });

    it('when the token is signed by another key pair and the set holds a single key', async () => {
      const single = appWith({ keyFor: async () => current.publicKey, generation: 1 });
      const token = rs256(stranger.privateKey, { sub: 'mallory' });
      const res = await request(single).get('/whoami').set('Authorization', `Bearer ${token}`).expect(401);
      expect(res.body.errors[0].message).to.equal('invalid token signature');
    });

    it('when the payload was changed after signing', async () => {
      const [header, , signature] = rs256(current.privateKey, { sub: 'alice' }).split('.');
      const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'admin' })).toString('base64url')}.${signature}`;
      await rejected(forged, 'invalid token signature');
    });

    it('when the token has expired', async () => {
      await rejected(rs256(current.privateKey, { sub: 'alice', exp: now() - 10 }), 'token expired');
    });

    it('when the token is not valid yet (nbf)', async () => {
      await rejected(rs256(current.privateKey, { sub: 'alice', nbf: now() + 600 }), 'token not yet valid (nbf)');
    });

    it('when the token is HS256-signed with the public key as HMAC secret', async () => {
      const pem = current.publicKey.export({ type: 'spki', format: 'pem' });
      const token = craft({ alg: 'HS256', typ: 'JWT' }, { sub: 'mallory' }, (input) => createHmac('sha256', pem).update(input).digest('base64url'));
      await rejected(token, 'token must be signed with RS256');
    });

    it('when the token claims alg none', async () => {
      await rejected(craft({ alg: 'none', typ: 'JWT' }, { sub: 'mallory' }, () => ''), 'token must be signed with RS256');
    });

    it('when an RS256 signature comes under another algorithm name', async () => {
      const rs = (input: string) => sign('RSA-SHA256', Buffer.from(input), current.privateKey).toString('base64url');
      await rejected(craft({ alg: 'RS512', typ: 'JWT' }, { sub: 'mallory' }, rs), 'token must be signed with RS256');
    });

    it('when the token has no usable sub', async () => {
      const message = 'token has no subject: the sub claim must be a non-empty string';
      await rejected(rs256(current.privateKey, { name: 'alice' }), message);
      await rejected(rs256(current.privateKey, { sub: '  ' }), message);
      await rejected(rs256(current.privateKey, { sub: 42 }), message);
    });
  });
});

describe('the optional token checks (TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_REQUIRE_EXP)', () => {
  const single: KeyProvider = { keyFor: async () => current.publicKey, generation: 1 };
  const AUDIENCES = ['eventstats', 'https://stats.example'];
  const ISSUER = 'https://gateway.example';
  const strict = appWith(single, undefined, { audience: AUDIENCES, issuer: [ISSUER], requireExp: true });
  const lenient = appWith(single);
  const good = { sub: 'alice', aud: 'eventstats', iss: ISSUER, exp: now() + 600 };

  async function refused(claims: object, message: string) {
    const token = rs256(current.privateKey, claims);
    const res = await request(strict).get('/whoami').set('Authorization', `Bearer ${token}`).expect(401);
    expect(res.body).to.deep.equal({ success: false, statusCode: 401, errors: [{ type: 'auth', message }] });
    // Neither the token nor the accepted values are told to the caller.
    for (const secret of [token, ...AUDIENCES, ISSUER]) expect(JSON.stringify(res.body)).not.to.include(secret);
  }

  it('are all off by default, as upstream: a token without aud, iss or exp is accepted', async () => {
    await request(lenient).get('/whoami').set('Authorization', `Bearer ${rs256(current.privateKey, { sub: 'alice' })}`).expect(200, { user: 'alice' });
    await request(lenient).get('/whoami').set('Authorization', `Bearer ${rs256(current.privateKey, { sub: 'alice', aud: 'other', iss: 'x' })}`).expect(200, { user: 'alice' });
  });

  it('accept a token carrying one of the listed audiences, the issuer and an exp', async () => {
    for (const aud of ['eventstats', 'https://stats.example', ['other', 'https://stats.example']]) {
      const res = await request(strict).get('/whoami').set('Authorization', `Bearer ${rs256(current.privateKey, { ...good, aud })}`).expect(200);
      expect(res.body).to.deep.equal({ user: 'alice' });
    }
  });

  it('answer 401 naming the audience rule when aud is missing or not listed', async () => {
    const { aud: _aud, ...noAud } = good;
    await refused(noAud, 'token audience (aud) is not accepted');
    await refused({ ...good, aud: 'eventstats-staging' }, 'token audience (aud) is not accepted');
    await refused({ ...good, aud: ['a', 'b'] }, 'token audience (aud) is not accepted');
  });

  it('answer 401 naming the issuer rule when iss is missing or another', async () => {
    const { iss: _iss, ...noIss } = good;
    await refused(noIss, 'token issuer (iss) is not accepted');
    await refused({ ...good, iss: 'https://gateway.example.evil' }, 'token issuer (iss) is not accepted');
  });

  it('answer 401 naming the expiry rule when exp is required and missing', async () => {
    const { exp: _exp, ...noExp } = good;
    await refused(noExp, 'token has no expiry: this server requires an exp claim');
    await refused({ ...good, exp: now() - 5 }, 'token expired');
  });

  it('are checked before a token is remembered, so a refused token stays refused', async () => {
    const verified = new VerifiedTokens();
    const app = appWith(single, verified, { audience: ['eventstats'] });
    const token = rs256(current.privateKey, { sub: 'alice', aud: 'other' });
    for (let i = 0; i < 2; i += 1) await request(app).get('/whoami').set('Authorization', `Bearer ${token}`).expect(401);
    expect(verified.userOf(token, 1)).to.equal(undefined);
  });
});

describe('the key endpoint behind the middleware', () => {
  const keys = keyServer();
  before(async () => keys.start());
  after(async () => keys.stop());
  beforeEach(() => {
    Object.assign(keys.state, { body: { keys: [{ key: der(current.publicKey) }] }, status: 200, hits: 0, hold: false });
  });

  it('is fetched once for concurrent first requests', async () => {
    const app = appWith(new KeyStore({ source: keys.url() }));
    const token = rs256(current.privateKey, { sub: 'alice' });
    const results = await Promise.all(Array.from({ length: 8 }, () => request(app).get('/whoami').set('Authorization', `Bearer ${token}`)));
    expect(results.map((r) => r.status)).to.deep.equal(Array(8).fill(200));
    expect(keys.state.hits).to.equal(1);
  });

  it('is asked again when a token names a kid published after start-up', async () => {
    const jwk = (kid: string, key: KeyObject) => ({ ...key.export({ format: 'jwk' }), kid });
    keys.state.body = { keys: [jwk('k1', current.publicKey)] };
    const clock = { t: Date.now() };
    const app = appWith(new KeyStore({ source: keys.url(), now: () => clock.t }));
    await request(app).get('/whoami').set('Authorization', `Bearer ${rs256(current.privateKey, { sub: 'alice' }, 'k1')}`).expect(200, { user: 'alice' });
    keys.state.body = { keys: [jwk('k1', current.publicKey), jwk('k2', next.publicKey)] };
    clock.t += 60_000;
    const res = await request(app).get('/whoami').set('Authorization', `Bearer ${rs256(next.privateKey, { sub: 'bob' }, 'k2')}`).expect(200);
    expect(res.body).to.deep.equal({ user: 'bob' });
    expect(keys.state.hits).to.equal(2);
  });

  describe('with tokens it has verified before', () => {
    const jwk = (kid: string, key: KeyObject) => ({ ...key.export({ format: 'jwk' }), kid });

    it('does not ask for keys again for the same token', async () => {
      const store = new KeyStore({ source: keys.url() });
      await store.refresh(); // as at start-up: a verification that loads the set is not remembered
      let asked = 0;
      const counting: KeyProvider = {
        keyFor: (token, kid) => ((asked += 1), store.keyFor(token, kid)),
        get generation() {
          return store.generation;
        },
      };
      const app = appWith(counting);
      const alice = rs256(current.privateKey, { sub: 'alice', exp: now() + 600 });
      for (let i = 0; i < 3; i += 1) {
        const res = await request(app).get('/whoami').set('Authorization', `Bearer ${alice}`).expect(200);
        expect(res.body).to.deep.equal({ user: 'alice' });
      }
      expect(asked).to.equal(1);
      await request(app).get('/whoami').set('bearer', alice).expect(200, { user: 'alice' });
      expect(asked).to.equal(1);
      // Any other token, even for the same user, is verified in full.
      await request(app).get('/whoami').set('Authorization', `Bearer ${rs256(current.privateKey, { sub: 'alice', exp: now() + 601 })}`).expect(200, { user: 'alice' });
      expect(asked).to.equal(2);
    });

    it('verifies it again once the key set changed, and refuses it when its key was removed', async () => {
      keys.state.body = { keys: [jwk('k1', current.publicKey)] };
      const clock = { t: Date.now() };
      const app = appWith(new KeyStore({ source: keys.url(), now: () => clock.t }));
      const alice = rs256(current.privateKey, { sub: 'alice' }, 'k1');
      await request(app).get('/whoami').set('Authorization', `Bearer ${alice}`).expect(200, { user: 'alice' });
      // k1 is withdrawn; a token naming the new k2 makes the store re-fetch the set.
      keys.state.body = { keys: [jwk('k2', next.publicKey)] };
      clock.t += 60_000;
      await request(app).get('/whoami').set('Authorization', `Bearer ${rs256(next.privateKey, { sub: 'bob' }, 'k2')}`).expect(200, { user: 'bob' });
      const res = await request(app).get('/whoami').set('Authorization', `Bearer ${alice}`).expect(401);
      expect(res.body.errors[0].message).to.equal('invalid token signature');
    });

    it('verifies it again after the age cap, so a withdrawn key stops working after the set is re-fetched', async () => {
      keys.state.body = { keys: [{ key: der(current.publicKey) }] };
      const clock = { t: Date.now() };
      const app = appWith(new KeyStore({ source: keys.url(), now: () => clock.t }), new VerifiedTokens({ now: () => clock.t }));
      const alice = rs256(current.privateKey, { sub: 'alice' });
      await request(app).get('/whoami').set('Authorization', `Bearer ${alice}`).expect(200, { user: 'alice' });
      keys.state.body = { keys: [{ key: der(next.publicKey) }] };
      clock.t += 29 * 60_000; // past both the 60 s age cap and the 28 min key re-fetch age
      const refused = await request(app).get('/whoami').set('Authorization', `Bearer ${alice}`).expect(401);
      expect(onlyError(refused.body).type, 'refused as a token failure, in the envelope').to.equal('auth');
      expect(keys.state.hits).to.equal(2);
    });
  });

  it('answers 503 while no key could ever be loaded, asks again once per interval, then recovers', async () => {
    keys.state.status = 500;
    const clock = { t: Date.now() };
    const app = appWith(new KeyStore({ source: keys.url(), now: () => clock.t }));
    const token = rs256(current.privateKey, { sub: 'alice' });
    for (let i = 0; i < 5; i += 1) {
      const res = await request(app).get('/whoami').set('Authorization', `Bearer ${token}`).expect(503);
      expect(res.body.errors).to.deep.equal([{ type: 'auth', message: 'token verification keys are unavailable; try again later' }]);
    }
    expect(keys.state.hits).to.equal(1);
    keys.state.status = 200;
    clock.t += 10_000;
    await request(app).get('/whoami').set('Authorization', `Bearer ${token}`).expect(200, { user: 'alice' });
    expect(keys.state.hits).to.equal(2);
  });

  it('is reported by status when it answers an error', async () => {
    keys.state.status = 404;
    let error: unknown;
    await readKeySource(keys.url(), 1_000).catch((err: unknown) => (error = err));
    expect((error as Error).message).to.equal('the key endpoint answered HTTP 404');
  });

  it('is given up on after the timeout', async () => {
    keys.state.hold = true;
    let error: unknown;
    await readKeySource(keys.url(), 200).catch((err: unknown) => (error = err));
    expect((error as Error).message).to.equal('no answer within 200 ms');
    keys.server.closeAllConnections();
  });

  it('is reported with the reason when it cannot be reached', async () => {
    const closed = keyServer();
    await closed.start();
    const url = closed.url();
    await closed.stop();
    let error: unknown;
    await readKeySource(url, 1_000).catch((err: unknown) => (error = err));
    expect((error as Error).message).to.match(/^fetch failed: .*ECONNREFUSED/);
  });
});
