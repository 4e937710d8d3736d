/**
 * The dashboard and the API docs in a real browser: the system's headless Chromium, driven by
 * puppeteer-core, against the app over a seeded database served as the all-in-one mode serves it
 * (the pages, and POST /dev/token). Every number the page shows is checked against the API's own
 * answer to the same request. Where no Chromium is installed the suite fails, naming it.
 */
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { createHttpServer } from '../../../src/http/http-server.ts';
import { openApiDocument } from '../../../src/http/openapi.ts';
import { pageAssets } from '../../../src/http/page-assets.ts';
import { queriesOf, SUPPORTED_QUERIES } from '../../../src/declarations/index.ts';
import { DAY_MS } from '../../../src/rollup/window.ts';
import { findChromium } from '../../helpers/chromium.ts';
import { NOW, seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { httpHarness, RUNS_TOPIC, type HttpHarness, DEV_TOKEN_SECRET } from '../../helpers/http.ts';

const SCREENSHOT = new URL('../../artifacts/dashboard.png', import.meta.url);
const TIMEOUTS = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 };
/** Chrome logs every 4xx a page's fetch receives; the error tests ask for these on purpose. */
const EXPECTED_CONSOLE_ERROR = /^Failed to load resource: the server responded with a status of 40[01]\b/;

type Row = Record<string, unknown>;
interface Column {
  readonly name: string;
  readonly type: string;
  readonly description: string;
}
interface CatalogEntry {
  readonly name: string;
  readonly parameters: { readonly properties: Record<string, unknown> };
  readonly columns: readonly Column[];
}
interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}
interface PanelView {
  readonly query: string;
  readonly state: string;
  readonly columns: string[];
  readonly cells: { value: string; text: string }[][];
  readonly refreshedAt: string | null;
  readonly freshness: string;
  readonly errorStatus: string | null;
  readonly errorMessage: string | null;
}

/** What the page's own DOM says about every panel; runs in the browser. */
function readPanels(page: Page): Promise<PanelView[]> {
  return page.$$eval('section.panel', (sections) =>
    sections.map((p) => ({
      query: p.getAttribute('data-query') ?? '',
      state: p.getAttribute('data-state') ?? '',
      columns: [...p.querySelectorAll('table.rows thead th')].map((th) => th.getAttribute('data-column') ?? ''),
      cells: [...p.querySelectorAll('table.rows tbody tr')].map((tr) =>
        [...tr.querySelectorAll('td')].map((td) => ({ value: td.getAttribute('data-value') ?? '', text: td.textContent ?? '' })),
      ),
      refreshedAt: p.querySelector('.freshness time')?.getAttribute('datetime') ?? null,
      freshness: p.querySelector('.freshness')?.textContent ?? '',
      errorStatus: p.querySelector('.error .status')?.textContent ?? null,
      errorMessage: p.querySelector('.error .message')?.textContent ?? null,
    })),
  );
}

/** Sets a form field as typing would, firing its input event. */
async function fill(page: Page, selector: string, value: string): Promise<void> {
  await page.$eval(
    selector,
    (input, v) => {
      (input as unknown as { value: string }).value = v;
      input.dispatchEvent(new Event('input', { bubbles: true }));
    },
    value,
  );
}

/** Clicks Show (or runs `action`) and waits until every panel has its answer or the catalog failed. */
async function showAndWait(page: Page, action: () => Promise<unknown> = () => page.click('#show')): Promise<string> {
  await page.$eval('#panels', (panels) => panels.removeAttribute('data-state'));
  await action();
  await page.waitForSelector('#panels[data-state="done"], #panels[data-state="error"]', { timeout: 60_000 });
  return page.$eval('#panels', (panels) => panels.getAttribute('data-state') ?? '');
}

/** The datetime-local value of an epoch-ms instant, read by the page as UTC. */
const utcInput = (ms: number) => new Date(ms).toISOString().slice(0, 19);

// The tests drive one page in order, as a person would: token, topic, window, sorting, filters, errors.
describe('the dashboard and the API docs in headless Chromium', function () {
  this.timeout(180_000);
  let s: SeededDatabase | undefined;
  let h: HttpHarness | undefined;
  let server: Server | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let base: string;
  let token: string;
  const foreignRequests: string[] = [];
  const pageErrors: string[] = [];

  const api = async (method: 'GET' | 'POST', path: string, bearer?: string, body?: object): Promise<Answer> => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (bearer !== undefined) headers.Authorization = `Bearer ${bearer}`;
    const res = await fetch(new URL(path, base), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const catalogOf = async (topic: string): Promise<CatalogEntry[]> => {
    const answer = await api('GET', `/stats/${topic}/queries`, token);
    expect(answer.status).to.equal(200);
    return answer.body.data as CatalogEntry[];
  };
  const queryPath = (topic: string, name: string) => `/stats/${topic}/query/${name}`;

  /** Every request must stay on this server, and nothing may fail in the page. */
  const watch = (p: Page) => {
    p.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(`${base}/`) && !url.startsWith('data:')) foreignRequests.push(url);
    });
    p.on('pageerror', (err) => pageErrors.push(`page error: ${String(err)}`));
    p.on('console', (m) => {
      if (m.type() === 'error' && !EXPECTED_CONSOLE_ERROR.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
  };

  /** The table of a panel shows exactly the rows of the API's answer, in its order, each cell its value. */
  const expectTableShows = (panel: PanelView, rows: Row[], columns: readonly Column[]) => {
    const described = new Map(columns.map((c) => [c.name, c]));
    expect(panel.columns, panel.query).to.deep.equal(Object.keys(rows[0]!));
    expect(panel.cells, panel.query).to.have.length(rows.length);
    rows.forEach((row, i) => {
      panel.columns.forEach((name, j) => {
        const cell = panel.cells[i]![j]!;
        const value = row[name] ?? null;
        const where = `${panel.query} row ${i} ${name}`;
        expect(JSON.parse(cell.value), where).to.deep.equal(value);
        if (value === null) expect(cell.text, where).to.equal('–');
        else if (typeof value !== 'number') expect(cell.text, where).to.equal(String(value));
        else if (/epoch ms/.test(described.get(name)?.description ?? '')) expect(cell.text, where).to.equal(new Date(value).toISOString());
        else if (Number.isInteger(value)) expect(cell.text, where).to.equal(String(value));
        else expect(Math.abs(Number(cell.text) - value), where).to.be.at.most(5e-5);
      });
    });
  };

  before(async function () {
    const chromium = findChromium();
    // A missing browser fails the run rather than skipping these tests, so that CI cannot pass without them.
    if ('missing' in chromium) throw new Error(`the dashboard browser tests need Chromium: ${chromium.missing} (.ci/run installs it)`);
    s = await seededDatabase({ runs: 2_000, days: 30 });
    h = await httpHarness(s.executor, { pages: pageAssets(), devTokens: true });
    server = createHttpServer(h.app, TIMEOUTS);
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(0, '127.0.0.1', () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // puppeteer adds --headless=new for headless: true; --no-sandbox because CI runs as root.
    browser = await puppeteer.launch({ executablePath: chromium.path, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    watch(page);
  });

  after(async () => {
    if (browser) {
      const child = browser.process();
      await browser.close().catch(() => child?.kill('SIGKILL'));
    }
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    await h?.close();
    await s?.close();
  });

  describe('GET /dashboard', () => {
    it('gets a dev token with its button, keeps it for the tab, and the API accepts it', async () => {
      // The link npm start prints carries the secret POST /dev/token needs, in the fragment.
      await page.goto(`${base}/dashboard#dev-secret=${DEV_TOKEN_SECRET}`);
      await page.waitForSelector('body[data-ready="true"]');
      expect(page.url(), 'the secret is taken out of the address bar').to.equal(`${base}/dashboard/`);
      expect(await page.$eval('#dev-token', (e) => e.hasAttribute('hidden'))).to.equal(false);
      await showAndWait(page, () => page.click('#dev-token-button'));
      token = await page.$eval('#token', (input) => (input as unknown as { value: string }).value);
      expect(jwt.decode(token, { json: true })?.sub).to.equal('alice');
      expect(await page.evaluate('sessionStorage.getItem("eventstats.token")')).to.equal(token);
      expect((await api('GET', `/stats/${RUNS_TOPIC}/queries`, token)).status).to.equal(200);
    });

    it('offers the topics that have compiled queries', async () => {
      const options = await page.$$eval('#topic option', (list) => list.map((o) => o.getAttribute('value')));
      expect(options).to.deep.equal([...new Set(SUPPORTED_QUERIES.map((q) => q.topic))].sort());
    });

    it('shows every compiled query of the runs topic with exactly the rows and numbers the API answers, and their freshness', async () => {
      await page.select('#topic', RUNS_TOPIC);
      await page.click('input[name="window"][value="days"]');
      await fill(page, '#days', '7');
      expect(await showAndWait(page)).to.equal('done');
      const catalog = await catalogOf(RUNS_TOPIC);
      expect(catalog.map((q) => q.name)).to.have.members(queriesOf(RUNS_TOPIC).map((q) => q.name));
      const panels = await readPanels(page);
      // The chart leads, then the tables in the catalog's order.
      expect(panels.map((p) => p.query)).to.deep.equal(['job_status_trend', ...catalog.map((q) => q.name).filter((n) => n !== 'job_status_trend')]);
      for (const query of catalog) {
        const answer = await api('POST', queryPath(RUNS_TOPIC, query.name), token, { days: 7 });
        expect(answer.status, query.name).to.equal(200);
        const rows = answer.body.data as Row[];
        const meta = answer.body.meta as Record<string, unknown>;
        expect(rows, `${query.name} has rows to compare`).to.have.length.greaterThan(0);
        const panel = panels.find((p) => p.query === query.name)!;
        expect(panel.state, query.name).to.equal('done');
        expectTableShows(panel, rows, query.columns);
        expect(panel.refreshedAt, query.name).to.be.a('string').and.equal(meta.refreshed_at);
        expect(panel.freshness, query.name).to.match(/^refreshed \d+ (s|min|h|d) ago · /);
        if (meta.realtime === true) expect(panel.freshness).to.include(`real time (${String(meta.tail_rows)} rows read beyond the refresh)`);
        else expect(panel.freshness).to.include('as of that refresh');
      }
      await mkdir(new URL('.', SCREENSHOT), { recursive: true });
      await page.screenshot({ path: fileURLToPath(SCREENSHOT) as `${string}.png`, fullPage: true });
    });

    it('draws job_status_trend as a uPlot chart with one series per column of the answer', async () => {
      const answer = await api('POST', queryPath(RUNS_TOPIC, 'job_status_trend'), token, { days: 7 });
      const rows = answer.body.data as Row[];
      const series = Object.keys(rows[0]!).filter((c) => c !== 'bucket_start');
      const panel = 'section[data-query="job_status_trend"]';
      const labels = await page.$$eval(`${panel} .u-legend .u-series .u-label`, (list) => list.map((l) => l.textContent));
      expect(labels).to.deep.equal(['bucket_start (UTC)', ...series]);
      // The canvas holds the lines: pixels in the failed series' red and the total's blue.
      const colors = { failed: [214, 39, 40], total: [31, 119, 180] };
      const painted = await page.$eval(
        `${panel} .chart canvas`,
        (canvas, rgbs) => {
          const c = canvas as unknown as { width: number; height: number; getContext(t: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
          const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
          return {
            width: c.width,
            height: c.height,
            counts: rgbs.map((rgb) => {
              let n = 0;
              for (let i = 0; i < data.length; i += 4) {
                if (data[i + 3]! > 200 && Math.abs(data[i]! - rgb[0]!) + Math.abs(data[i + 1]! - rgb[1]!) + Math.abs(data[i + 2]! - rgb[2]!) < 30) n++;
              }
              return n;
            }),
          };
        },
        [colors.failed, colors.total],
      );
      expect(painted.width).to.be.greaterThan(300);
      expect(painted.height).to.be.greaterThan(200);
      const sum = (c: string) => rows.reduce((n, r) => n + (r[c] as number), 0);
      expect(sum('failed'), 'the window has failures to draw').to.be.greaterThan(0);
      expect(painted.counts[0], 'failed series drawn').to.be.greaterThan(20);
      expect(painted.counts[1], 'total series drawn').to.be.greaterThan(20);
    });

    it('sorts a table by the column whose header is clicked, then the other way', async () => {
      const rows = (await api('POST', queryPath(RUNS_TOPIC, 'failed_jobs'), token, { days: 7 })).body.data as Row[];
      const expected = rows.map((r) => r.job_count as number).sort((a, b) => a - b);
      expect(new Set(expected).size, 'distinct counts, so the order shows').to.be.greaterThan(1);
      const header = 'section[data-query="failed_jobs"] th[data-column="job_count"]';
      const read = async () => {
        const index = await page.$$eval('section[data-query="failed_jobs"] table.rows thead th', (ths) => ths.findIndex((th) => th.getAttribute('data-column') === 'job_count'));
        return page.$$eval('section[data-query="failed_jobs"] table.rows tbody tr', (trs, i) => trs.map((tr) => Number(tr.querySelectorAll('td')[i]?.getAttribute('data-value'))), index);
      };
      await page.click(`${header} button`);
      expect(await page.$eval(header, (th) => th.getAttribute('aria-sort'))).to.equal('ascending');
      expect(await read()).to.deep.equal(expected);
      await page.click(`${header} button`);
      expect(await page.$eval(header, (th) => th.getAttribute('aria-sort'))).to.equal('descending');
      expect(await read()).to.deep.equal([...expected].reverse());
    });

    it('sends a from/to window and the filters to the queries that take them, and shows what the API answers to that', async () => {
      const unfiltered = (await api('POST', queryPath(RUNS_TOPIC, 'failed_jobs'), token, { days: 7 })).body.data as Row[];
      const tenant = unfiltered[0]!.tenant_id as string;
      const from = Math.floor((NOW - 10 * DAY_MS) / 1000) * 1000;
      const to = Math.floor((NOW - 3 * DAY_MS) / 1000) * 1000;
      await page.click('input[name="window"][value="range"]');
      await fill(page, '#from', utcInput(from));
      await fill(page, '#to', utcInput(to));
      await fill(page, 'input[data-filter="tenant_id"]', tenant);
      expect(await showAndWait(page)).to.equal('done');
      const panels = await readPanels(page);
      const catalog = await catalogOf(RUNS_TOPIC);
      const filtered = catalog.filter((q) => 'tenant_id' in q.parameters.properties);
      expect(filtered.length, 'some queries take the filter').to.be.greaterThan(0);
      for (const query of catalog) {
        const body = { timestamp_start: from, timestamp_end: to, ...(filtered.includes(query) ? { tenant_id: [tenant] } : {}) };
        const answer = await api('POST', queryPath(RUNS_TOPIC, query.name), token, body);
        expect(answer.status, query.name).to.equal(200);
        expect((answer.body.params as Row).timestamp_start).to.equal(from);
        const rows = answer.body.data as Row[];
        expect(rows, query.name).to.have.length.greaterThan(0);
        expectTableShows(panels.find((p) => p.query === query.name)!, rows, query.columns);
      }
      const failedJobs = panels.find((p) => p.query === 'failed_jobs')!;
      const tenantColumn = failedJobs.columns.indexOf('tenant_id');
      expect(failedJobs.cells.map((r) => JSON.parse(r[tenantColumn]!.value))).to.satisfy((ts: string[]) => ts.every((t) => t === tenant));
      await fill(page, 'input[data-filter="tenant_id"]', '');
    });

    it("shows the API's own error message when it refuses a query", async () => {
      const from = NOW - DAY_MS;
      const to = NOW - 2 * DAY_MS;
      await fill(page, '#from', utcInput(from));
      await fill(page, '#to', utcInput(to));
      expect(await showAndWait(page)).to.equal('done');
      const panels = await readPanels(page);
      expect(panels).to.have.length(queriesOf(RUNS_TOPIC).length);
      for (const panel of panels) {
        const answer = await api('POST', queryPath(RUNS_TOPIC, panel.query), token, { timestamp_start: Math.floor(from / 1000) * 1000, timestamp_end: Math.floor(to / 1000) * 1000 });
        expect(answer.status).to.equal(400);
        const [error] = answer.body.errors as { type: string; message: string }[];
        expect(panel.state, panel.query).to.equal('error');
        expect(panel.errorStatus).to.equal(`400 ${error!.type}`);
        expect(panel.errorMessage).to.equal(error!.message);
      }
    });

    it("shows the API's own message when it refuses the token", async () => {
      await fill(page, '#token', 'not-a-token');
      expect(await showAndWait(page)).to.equal('error');
      const answer = await api('GET', `/stats/${RUNS_TOPIC}/queries`, 'not-a-token');
      expect(answer.status).to.equal(401);
      const [error] = answer.body.errors as { type: string; message: string }[];
      expect(await page.$eval('#status', (e) => e.textContent)).to.equal(`401 ${error!.type}: ${error!.message}`);
      await fill(page, '#token', token);
    });
  });

  describe('GET /docs', () => {
    let docs: Page;
    before(async () => {
      docs = await browser!.newPage();
      watch(docs);
    });

    it('shows Swagger UI with every operation of the OpenAPI document at GET /api', async () => {
      await docs.goto(`${base}/docs`);
      expect(docs.url()).to.equal(`${base}/docs/`);
      await docs.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
      const shown = await docs.$$eval('.opblock', (blocks) =>
        blocks.map((b) => `${b.querySelector('.opblock-summary-method')?.textContent?.toLowerCase()} ${b.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`),
      );
      const paths = openApiDocument().paths as Record<string, Record<string, unknown>>;
      const documented = Object.entries(paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
      expect(shown.sort()).to.deep.equal(documented.sort());
      expect(await docs.$eval('.info .title', (t) => t.textContent)).to.include('EventStats');
    });

    it('tries a compiled query with a pasted bearer token', async () => {
      await docs.click('.auth-wrapper .authorize');
      await docs.waitForSelector('.modal-ux input');
      // The first scheme of the dialog is bearerAuth (Authorization: Bearer).
      await docs.focus('.modal-ux .auth-container input');
      await docs.keyboard.sendCharacter(token); // one paste-like input event, not 800 keystrokes
      await docs.click('.modal-ux .auth-container .auth-btn-wrapper button.authorize');
      await docs.click('.modal-ux .close-modal');
      // The POST of the query (its GET, listed first, takes query-string parameters instead of a body).
      const operation = `.opblock-post .opblock-summary-path[data-path="${queryPath(RUNS_TOPIC, 'failed_jobs')}"]`;
      await docs.click(operation);
      await docs.waitForSelector('.try-out__btn');
      await docs.click('.try-out__btn');
      // Swagger UI fills the body with an example of every parameter (days and timestamps together,
      // which the API refuses): an empty object asks for the defaults.
      await docs.focus('textarea.body-param__text');
      await docs.keyboard.down('Control');
      await docs.keyboard.press('KeyA');
      await docs.keyboard.up('Control');
      await docs.keyboard.type('{}');
      await docs.click('.execute');
      const status = '.live-responses-table tr.response td.response-col_status';
      await docs.waitForSelector(status, { timeout: 30_000 });
      expect((await docs.$eval(status, (e) => e.textContent))?.trim()).to.equal('200');
    });
  });

  // A suite of its own: mocha runs a suite's tests before its nested suites, and this one looks back on both pages.
  describe('both pages', () => {
    it('load every file from this server, and nothing fails in them', () => {
      expect(foreignRequests).to.deep.equal([]);
      expect(pageErrors).to.deep.equal([]);
    });
  });
});
