/**
 * The browser pages' routes as a client sees them, without a browser: what /docs, /dashboard and
 * POST /dev/token answer, and that none of them exists unless createApp is given its part. None of
 * them reads the database: the executor here refuses every query.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type RequestListener } from 'node:http';
import path from 'node:path';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { DEV_TOKEN_TTL_SECONDS } from '../../../src/auth/dev-keys.ts';
import type { Executor } from '../../../src/db/executor.ts';
import { openApiDocument } from '../../../src/http/openapi.ts';
import { pageAssets } from '../../../src/http/page-assets.ts';
import { PAGE_CSP } from '../../../src/http/page-headers.ts';
import { isLoopback } from '../../../src/http/routes/dev-token.ts';
import { httpHarness, onlyError, RUNS_TOPIC, type HttpHarness, DEV_TOKEN_SECRET } from '../../helpers/http.ts';

const noDatabase: Executor = { query: () => Promise.reject(new Error('these routes must not read the database')) };
const assets = pageAssets();

/** The relative src/href of an HTML page (data: URLs left out). */
function referencedFiles(html: string): string[] {
  return [...html.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((url) => !url.startsWith('data:'));
}

describe('the browser pages', () => {
  let h: HttpHarness;
  let bare: HttpHarness;
  before(async () => {
    h = await httpHarness(noDatabase, { pages: assets, devTokens: true });
    bare = await httpHarness(noDatabase);
  });
  after(async () => {
    await h?.close();
    await bare?.close();
  });

  describe('GET /docs', () => {
    it("redirects to /docs/, Swagger UI's page, whose every file is on this server", async () => {
      const redirect = await request(h.app).get('/docs').expect(301);
      expect(redirect.headers.location).to.equal('/docs/');
      const page = await request(h.app).get('/docs/').expect(200).expect('Content-Type', /text\/html/);
      const files = referencedFiles(page.text);
      expect(files).to.include.members(['./swagger-ui-bundle.js', './swagger-initializer.js', './swagger-ui.css']);
      for (const file of files) {
        expect(file, 'relative, so served from here').not.to.match(/^(https?:)?\/\//);
        await request(h.app).get(new URL(file, 'http://x/docs/').pathname).expect(200);
      }
    });

    it("serves swagger-ui-dist's own files", async () => {
      const res = await request(h.app).get('/docs/swagger-ui-bundle.js').expect(200).expect('Content-Type', /javascript/);
      expect(res.text).to.equal(await readFile(path.join(assets.swaggerUi, 'swagger-ui-bundle.js'), 'utf8'));
    });

    it('initializes Swagger UI on GET /api, not on the petstore, and without the validator badge (a call to validator.swagger.io)', async () => {
      const res = await request(h.app).get('/docs/swagger-initializer.js').expect(200).expect('Content-Type', /javascript/);
      expect(res.text).to.include('url: "/api"').and.include('validatorUrl: null');
      expect(res.text).not.to.include('petstore');
    });
  });

  describe('GET /dashboard', () => {
    it('redirects to /dashboard/, whose script, styles and uPlot are all served from here', async () => {
      expect((await request(h.app).get('/dashboard').expect(301)).headers.location).to.equal('/dashboard/');
      const page = await request(h.app).get('/dashboard/').expect(200).expect('Content-Type', /text\/html/);
      const files = referencedFiles(page.text).filter((f) => !f.startsWith('../'));
      expect(files).to.have.members(['vendor/uplot/uPlot.min.css', 'dashboard.css', 'dashboard.js']);
      for (const file of files) await request(h.app).get(`/dashboard/${file}`).expect(200);
      // A module script must come with a JavaScript type, or the browser refuses it.
      await request(h.app).get('/dashboard/dashboard.js').expect('Content-Type', /javascript/);
    });

    it('serves uPlot from node_modules, as its package ships it', async () => {
      const res = await request(h.app).get('/dashboard/vendor/uplot/uPlot.esm.js').expect(200).expect('Content-Type', /javascript/);
      expect(res.text).to.equal(await readFile(path.join(assets.uplot, 'uPlot.esm.js'), 'utf8'));
    });

    it('links to the API docs and the OpenAPI document, which answer', async () => {
      const page = await request(h.app).get('/dashboard/').expect(200);
      const links = referencedFiles(page.text).filter((f) => f.startsWith('../'));
      expect(links).to.have.members(['../docs/', '../api']);
      for (const link of links) await request(h.app).get(new URL(link, 'http://x/dashboard/').pathname).expect(200);
    });

    it('tells the page whether POST /dev/token exists (config.json)', async () => {
      expect((await request(h.app).get('/dashboard/config.json').expect(200)).body).to.deep.equal({ dev_token_path: '/dev/token' });
      const withoutTokens = await httpHarness(noDatabase, { pages: assets });
      try {
        expect((await request(withoutTokens.app).get('/dashboard/config.json').expect(200)).body).to.deep.equal({ dev_token_path: null });
      } finally {
        await withoutTokens.close();
      }
    });
  });

  it('send a Content-Security-Policy that lets them load and call this origin only', async () => {
    expect(PAGE_CSP).not.to.match(/https?:|\*/);
    expect(PAGE_CSP).to.include("default-src 'self'").and.include("script-src 'self'").and.include("connect-src 'self'");
    for (const url of ['/docs/', '/docs/swagger-initializer.js', '/dashboard/', '/dashboard/config.json']) {
      const res = await request(h.app).get(url).expect(200);
      expect(res.headers['content-security-policy'], url).to.equal(PAGE_CSP);
      expect(res.headers['x-content-type-options'], url).to.equal('nosniff');
    }
  });

  it('leave GET /api as it was', async () => {
    expect((await request(h.app).get('/api').expect(200)).body).to.deep.equal(openApiDocument());
    expect((await request(h.app).get('/api').expect(200)).headers['content-security-policy']).to.equal(undefined);
  });

  it('do not exist unless createApp is given their folders (the Lambda bundle ships none)', async () => {
    for (const url of ['/docs/', '/dashboard/', '/dashboard/config.json']) {
      const res = await request(bare.app).get(url).expect(404);
      expect(onlyError(res.body).type).to.equal('route');
    }
  });
});

describe('POST /dev/token', () => {
  let h: HttpHarness;
  const devToken = (app: Parameters<typeof request>[0]) => request(app).post('/dev/token').set('X-Dev-Token-Secret', DEV_TOKEN_SECRET);
  before(async () => {
    h = await httpHarness(noDatabase, { devTokens: true });
  });
  after(async () => h?.close());

  it('signs a token for alice by default, valid for an hour, that the API accepts', async () => {
    const res = await devToken(h.app).expect(200).expect('Cache-Control', 'no-store');
    expect(res.body).to.deep.include({ success: true, statusCode: 200 });
    const { token, user, expires_in: ttl } = res.body.data as { token: string; user: string; expires_in: number };
    expect({ user, ttl }).to.deep.equal({ user: 'alice', ttl: DEV_TOKEN_TTL_SECONDS });
    const payload = jwt.decode(token, { json: true })!;
    expect(payload.sub).to.equal('alice');
    expect(payload.exp! - payload.iat!).to.equal(DEV_TOKEN_TTL_SECONDS);
    await request(h.app).get(`/stats/${RUNS_TOPIC}/queries`).set('Authorization', `Bearer ${token}`).expect(200);
  });

  it('signs for the user the body names, whom the ACL then judges', async () => {
    const res = await devToken(h.app).send({ user: 'bob' }).expect(200);
    expect(jwt.decode(res.body.data.token as string, { json: true })?.sub).to.equal('bob');
    const refused = await request(h.app).get(`/stats/${RUNS_TOPIC}/queries`).set('Authorization', `Bearer ${res.body.data.token as string}`).expect(403);
    expect(onlyError(refused.body).message).to.equal(`user 'bob' is not allowed to read topic '${RUNS_TOPIC}'`);
  });

  it('answers 400 naming the field for an empty user or an unknown field', async () => {
    expect(onlyError((await devToken(h.app).send({ user: ' ' }).expect(400)).body).message).to.equal("'user': must not be empty");
    expect(onlyError((await devToken(h.app).send({ sub: 'x' }).expect(400)).body).message).to.equal("unknown field(s) 'sub': not accepted here");
  });

  it('answers 403 to a client that is not on this machine', async () => {
    const remote: RequestListener = (req, res) => {
      Object.defineProperty(req.socket, 'remoteAddress', { value: '192.0.2.7', configurable: true });
      h.app(req, res);
    };
    const res = await devToken(createServer(remote)).expect(403);
    expect(onlyError(res.body)).to.deep.equal({
      type: 'auth',
      message: 'development tokens are handed out to clients on this machine only; elsewhere run npm run token -- <user>',
    });
  });

  it('answers 403 without the secret npm start printed, or with another one', async () => {
    for (const secret of [undefined, 'guessed']) {
      const req = request(h.app).post('/dev/token');
      const res = await (secret === undefined ? req : req.set('X-Dev-Token-Secret', secret)).expect(403);
      expect(onlyError(res.body).message).to.match(/^development tokens need the secret npm start printed/);
    }
  });

  it('answers 403 to a Host that does not name this machine (a proxy, a tunnel, a DNS-rebinding page), secret or not', async () => {
    for (const host of ['evil.example', 'evil.example:3000', '192.168.1.5:3000']) {
      const res = await devToken(h.app).set('Host', host).expect(403);
      expect(onlyError(res.body).message, host).to.match(/need a Host of localhost, 127\.0\.0\.1 or \[::1\]/);
    }
    await devToken(h.app).set('Host', 'localhost:3000').expect(200);
  });

  it('answers 403 to a page of another origin, and serves the dashboard of its own', async () => {
    const res = await devToken(h.app).set('Host', 'localhost:3000').set('Origin', 'http://evil.example').expect(403);
    expect(onlyError(res.body).message).to.equal('development tokens are not handed to pages of another origin');
    await devToken(h.app).set('Host', 'localhost:3000').set('Origin', 'http://localhost:3000').expect(200);
  });

  it('does not exist unless createApp is given a DevTokenIssuer', async () => {
    const bare = await httpHarness(noDatabase);
    try {
      const res = await request(bare.app).post('/dev/token').expect(404);
      expect(onlyError(res.body)).to.deep.equal({ type: 'route', message: 'no route POST /dev/token' });
    } finally {
      await bare.close();
    }
  });

  it('tells loopback addresses (IPv4, IPv6, IPv4-mapped) from the others', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a), a).to.equal(true);
    for (const a of [undefined, '10.0.0.1', '192.0.2.7', '::ffff:10.0.0.1', '::2', '1127.0.0.1', 'fe80::1']) expect(isLoopback(a), String(a)).to.equal(false);
  });
});
