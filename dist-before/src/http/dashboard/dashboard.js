/**
 * The EventStats dashboard: a token, a topic, a window and filters in; every compiled query of the
 * topic out, each answer with its freshness, each error as the API words it. It calls the public API
 * only (GET /api, GET /stats/{topic}/queries, POST /stats/{topic}/query/{name}), plus POST /dev/token
 * where the server offers it (the all-in-one mode, announced by config.json). No build step: this file
 * is served as it is, and uPlot comes from node_modules.
 */
import uPlot from './vendor/uplot/uPlot.esm.js';

/** The service root, wherever the dashboard is mounted (it lives at <root>/dashboard/). */
const API_ROOT = new URL('../', document.baseURI);
/** Per tab, gone when it closes: a token is a credential. */
const TOKEN_KEY = 'eventstats.token';
const QUERY_PATH = /^\/stats\/([^/{}]+)\/query\/([^/{}]+)$/;
const SERIES_COLORS = Object.freeze({ succeeded: '#2ca02c', failed: '#d62728', killed: '#ff7f0e', skipped: '#8c8c8c', total: '#1f77b4' });
const OTHER_COLORS = Object.freeze(['#9467bd', '#17becf', '#bcbd22', '#e377c2']);
const CHART_HEIGHT = 280;
/** The time column of a trend: a query whose rows carry it is drawn as a chart. */
const TIME_COLUMN = 'bucket_start';
const isTrend = (query) => query.columns.some((c) => c.name === TIME_COLUMN);

const byId = (id) => document.getElementById(id);
const form = byId('controls');
const tokenInput = byId('token');
const topicSelect = byId('topic');
const statusLine = byId('status');
const panels = byId('panels');
const filtersBox = byId('filters');

/** Bumped by every Show: answers of an older one are dropped. */
let generation = 0;
/** The freshness lines to tick every second, and the charts to resize and destroy. */
let clocks = [];
let plots = [];

/** Builds an element: attributes (class, dataset keys as data-*), then children (strings become text). */
function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

function setStatus(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle('error', isError);
}

/**
 * One API call. Resolves to {ok: true, body, clockOffset} or {ok: false, status, type, message}, the
 * message being the error envelope's own. clockOffset: the server's clock minus this browser's, from
 * the Date header, so "refreshed 12 s ago" does not depend on this machine's clock being right.
 */
async function api(method, path, { token, body, headers: extra } = {}) {
  const headers = { Accept: 'application/json', ...extra };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(new URL(path, API_ROOT), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    return { ok: false, status: 0, type: 'network', message: `the service did not answer (${err.message})` };
  }
  const serverNow = Date.parse(res.headers.get('Date') ?? '');
  const clockOffset = Number.isNaN(serverNow) ? 0 : serverNow - Date.now();
  let json;
  try {
    json = await res.json();
  } catch {
    return { ok: false, status: res.status, type: 'http', message: `HTTP ${res.status} without a JSON answer` };
  }
  if (!res.ok || json.success === false) {
    const error = Array.isArray(json.errors) ? json.errors[0] : undefined;
    return { ok: false, status: res.status, type: error?.type ?? 'http', message: error?.message ?? `HTTP ${res.status}` };
  }
  return { ok: true, status: res.status, body: json, clockOffset };
}

const describeFailure = (answer) => `${answer.status || ''} ${answer.type}: ${answer.message}`.trim();

/* ---------- token ---------- */

function saveToken() {
  const token = tokenInput.value.trim();
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** The secret `npm start` printed in the dashboard's link (#dev-secret=...), kept for this tab. */
const DEV_SECRET_KEY = 'eventstats.dev-secret';
function devSecret() {
  const given = /(?:^#|&)dev-secret=([\w-]+)/.exec(window.location.hash)?.[1];
  if (given) {
    sessionStorage.setItem(DEV_SECRET_KEY, given);
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  return sessionStorage.getItem(DEV_SECRET_KEY) ?? '';
}

async function fetchDevToken(path) {
  const user = byId('dev-user').value.trim();
  const answer = await api('POST', `.${path}`, { body: user ? { user } : {}, headers: { 'X-Dev-Token-Secret': devSecret() } });
  if (!answer.ok) return setStatus(describeFailure(answer), true);
  const { token, expires_in: ttl } = answer.body.data;
  tokenInput.value = token;
  saveToken();
  setStatus(`Development token for ${answer.body.data.user}, valid ${Math.round(ttl / 60)} min.`);
  await show();
}

/* ---------- topics, window, filters ---------- */

/** The topics that have compiled queries, from the OpenAPI document (its /stats/{topic}/query/{name} paths). */
function topicsOf(document) {
  const topics = new Set();
  for (const path of Object.keys(document.paths ?? {})) {
    const match = QUERY_PATH.exec(path);
    if (match) topics.add(decodeURIComponent(match[1]));
  }
  return [...topics].sort();
}

/** The window as the API takes it: `days`, or timestamps (the inputs are read as UTC); what is left empty, the API defaults. */
function windowParams() {
  if (form.elements.window.value === 'days') return { days: Number(byId('days').value) };
  const params = {};
  const from = byId('from').value;
  const to = byId('to').value;
  if (from) params.timestamp_start = Date.parse(`${from}Z`);
  if (to) params.timestamp_end = Date.parse(`${to}Z`);
  return params;
}

/** A parameter the API takes as one string or a list of strings (its JSON Schema: anyOf string | array of strings). */
function isFilter(schema) {
  const alternatives = schema.anyOf ?? schema.oneOf ?? [schema];
  return alternatives.some((a) => a.type === 'string' && !a.enum) && alternatives.some((a) => a.type === 'array' && a.items?.type === 'string' && !a.items.enum);
}

/** Shows one input per filter that any of the topic's queries takes, keeping what was typed. */
function syncFilters(queries) {
  const names = [];
  for (const q of queries) {
    for (const [name, schema] of Object.entries(q.parameters.properties ?? {})) {
      if (isFilter(schema) && !names.includes(name)) names.push(name);
    }
  }
  const typed = new Map([...filtersBox.querySelectorAll('input')].map((i) => [i.name, i.value]));
  filtersBox.querySelectorAll('label').forEach((l) => l.remove());
  byId('filters-hint').hidden = names.length > 0;
  for (const name of names) {
    filtersBox.append(h('label', {}, `${name} `, h('input', { name, value: typed.get(name) ?? '', spellcheck: 'false', 'data-filter': name })));
  }
}

/** The filters typed in, as lists of values. */
function filterValues() {
  const filters = {};
  for (const input of filtersBox.querySelectorAll('input[data-filter]')) {
    const values = input.value.split(',').map((v) => v.trim()).filter(Boolean);
    if (values.length) filters[input.name] = values;
  }
  return filters;
}

/** The body of one query: the window, and the filters this query takes (the others would be refused as unknown fields). */
function bodyFor(query, span, filters) {
  const accepted = query.parameters.properties ?? {};
  return { ...span, ...Object.fromEntries(Object.entries(filters).filter(([name]) => name in accepted)) };
}

/* ---------- freshness ---------- */

function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s ago`;
  const min = Math.round(s / 60);
  if (min < 120) return `${min} min ago`;
  const hours = Math.round(min / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} d ago`;
}

function tickOne(clock) {
  clock.node.textContent = ago(Date.now() + clock.offset - clock.at);
}

const tick = () => clocks.forEach(tickOne);

function freshnessLine(meta, clockOffset) {
  if (!meta.refreshed_at) return h('p', { class: 'freshness' }, `${meta.view}: never refreshed yet`);
  const clock = { node: h('time', { datetime: meta.refreshed_at, title: meta.refreshed_at }), at: Date.parse(meta.refreshed_at), offset: clockOffset };
  clocks.push(clock);
  tickOne(clock);
  // Real time: the answer also read the rows committed since that refresh (meta.tail_rows of them).
  const mode = meta.realtime ? `real time (${meta.tail_rows} rows read beyond the refresh)` : 'as of that refresh';
  return h('p', { class: 'freshness' }, 'refreshed ', clock.node, ` · ${mode}`);
}

/* ---------- tables ---------- */

const isEpochMs = (column) => /epoch ms/.test(column?.description ?? '');

function formatCell(value, column) {
  if (value === null || value === undefined) return '–';
  if (typeof value !== 'number') return String(value);
  if (isEpochMs(column)) return new Date(value).toISOString();
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(4)));
}

/** Ascending; nulls sort last whichever the direction (the caller flips the rest). */
function compareCells(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

/** A table whose columns sort on a click (again: the other way); rows start in the API's order. */
function sortableTable(columns, rows, catalogColumns) {
  const info = new Map(catalogColumns.map((c) => [c.name, c]));
  const tbody = h('tbody');
  const headers = columns.map((name) => h('th', { 'data-column': name, 'aria-sort': 'none', scope: 'col', title: info.get(name)?.description }, h('button', { type: 'button' }, name)));
  let sorted = { column: undefined, direction: 1 };

  const fill = (list) => {
    tbody.replaceChildren(
      ...list.map((row) =>
        h(
          'tr',
          {},
          ...columns.map((name) => {
            const value = row[name] ?? null;
            const cls = value === null ? 'null' : typeof value === 'number' ? 'number' : undefined;
            return h('td', { class: cls, 'data-value': JSON.stringify(value), title: typeof value === 'number' ? String(value) : undefined }, formatCell(value, info.get(name)));
          }),
        ),
      ),
    );
  };

  headers.forEach((th, i) => {
    th.querySelector('button').addEventListener('click', () => {
      const column = columns[i];
      sorted = { column, direction: sorted.column === column ? -sorted.direction : 1 };
      headers.forEach((other) => other.setAttribute('aria-sort', 'none'));
      th.setAttribute('aria-sort', sorted.direction === 1 ? 'ascending' : 'descending');
      const list = [...rows].sort((x, y) => {
        const a = x[column] ?? null;
        const b = y[column] ?? null;
        if (a === null || b === null) return (a === null) - (b === null);
        return sorted.direction * compareCells(a, b);
      });
      fill(list);
    });
  });
  fill(rows);
  // Scrolls within its panel (headers stay in view), so a 100-group answer does not bury the next one.
  return h('div', { class: 'table-wrap' }, h('table', { class: 'rows' }, h('thead', {}, h('tr', {}, ...headers)), tbody));
}

/* ---------- chart ---------- */

function trendChart(container, columns, rows) {
  const series = columns.filter((c) => c !== TIME_COLUMN);
  const data = [rows.map((r) => r[TIME_COLUMN] / 1000), ...series.map((c) => rows.map((r) => r[c]))];
  const plot = new uPlot(
    {
      width: Math.max(320, container.clientWidth),
      height: CHART_HEIGHT,
      // Buckets are UTC hours or days: label them in UTC, not in this browser's zone.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      series: [
        { label: `${TIME_COLUMN} (UTC)` },
        ...series.map((name, i) => ({ label: name, stroke: SERIES_COLORS[name] ?? OTHER_COLORS[i % OTHER_COLORS.length], width: 2 })),
      ],
      axes: [{}, { label: 'jobs' }],
    },
    data,
    container,
  );
  plots.push({ plot, container });
}

window.addEventListener('resize', () => {
  for (const { plot, container } of plots) plot.setSize({ width: Math.max(320, container.clientWidth), height: CHART_HEIGHT });
});

/* ---------- panels ---------- */

function newPanel(query) {
  const panel = h(
    'section',
    { class: 'panel', 'data-query': query.name, 'data-state': 'loading' },
    h('h2', {}, query.name),
    h('p', { class: 'description' }, query.description),
    h('p', { class: 'freshness' }),
  );
  panels.append(panel);
  return panel;
}

function showError(panel, answer) {
  panel.dataset.state = 'error';
  panel.querySelector('.freshness').remove();
  panel.append(
    h('p', { class: 'error', role: 'alert' }, h('span', { class: 'status' }, `${answer.status || ''} ${answer.type}`.trim()), h('span', { class: 'message' }, answer.message)),
  );
}

function showAnswer(panel, query, answer) {
  const { data: rows, meta } = answer.body;
  const fixed = query.columns.filter((c) => !c.name.startsWith('<')).map((c) => c.name);
  const columns = rows.length ? Object.keys(rows[0]) : fixed;
  panel.querySelector('.freshness').replaceWith(freshnessLine(meta, answer.clockOffset));
  const count = `${meta.row_count} row${meta.row_count === 1 ? '' : 's'}${meta.truncated ? ' (more groups exist than the limit let through)' : ''}`;
  panel.append(h('p', { class: 'count' }, count));
  if (columns.includes(TIME_COLUMN)) {
    const chart = h('div', { class: 'chart' });
    panel.append(chart, h('details', {}, h('summary', {}, 'numbers'), sortableTable(columns, rows, query.columns)));
    trendChart(chart, columns, rows);
  } else {
    panel.append(sortableTable(columns, rows, query.columns));
  }
  panel.dataset.state = 'done';
}

async function showQuery(run, topic, query, token, body) {
  const panel = newPanel(query);
  const answer = await api('POST', `stats/${encodeURIComponent(topic)}/query/${encodeURIComponent(query.name)}`, { token, body });
  if (run !== generation) return;
  if (answer.ok) showAnswer(panel, query, answer);
  else showError(panel, answer);
}

/** Loads the topic's catalog, then every one of its compiled queries, side by side. */
async function show() {
  const run = ++generation;
  const topic = topicSelect.value;
  const token = tokenInput.value.trim();
  for (const { plot } of plots) plot.destroy();
  plots = [];
  clocks = [];
  panels.replaceChildren();
  panels.dataset.state = 'loading';
  setStatus(`Loading the compiled queries of ${topic}…`);
  const catalog = await api('GET', `stats/${encodeURIComponent(topic)}/queries`, { token });
  if (run !== generation) return;
  if (!catalog.ok) {
    panels.dataset.state = 'error';
    return setStatus(describeFailure(catalog), true);
  }
  const queries = catalog.body.data;
  syncFilters(queries);
  const span = windowParams();
  const filters = filterValues();
  setStatus(`${queries.length} compiled ${queries.length === 1 ? 'query' : 'queries'} of ${topic}`);
  // The charts lead, then the tables in the catalog's order.
  const ordered = [...queries.filter(isTrend), ...queries.filter((q) => !isTrend(q))];
  await Promise.all(ordered.map((q) => showQuery(run, topic, q, token, bodyFor(q, span, filters))));
  if (run === generation) panels.dataset.state = 'done';
}

/* ---------- start ---------- */

async function start() {
  tokenInput.value = sessionStorage.getItem(TOKEN_KEY) ?? '';
  tokenInput.addEventListener('input', saveToken);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void show();
  });
  topicSelect.addEventListener('change', () => void show());
  for (const id of ['from', 'to']) byId(id).addEventListener('focus', () => (form.elements.window.value = 'range'));
  byId('days').addEventListener('focus', () => (form.elements.window.value = 'days'));
  setInterval(tick, 1000);

  const [config, openapi] = await Promise.all([
    fetch('config.json').then((r) => r.json()).catch(() => ({ dev_token_path: null })),
    api('GET', 'api'),
  ]);
  if (config.dev_token_path) {
    byId('dev-token').hidden = false;
    devSecret(); // takes the secret out of the address bar at once
    byId('dev-token-button').addEventListener('click', () => void fetchDevToken(config.dev_token_path));
  }
  if (!openapi.ok) return setStatus(`Cannot read the OpenAPI document: ${describeFailure(openapi)}`, true);
  const topics = topicsOf(openapi.body);
  topicSelect.replaceChildren(...topics.map((t) => h('option', { value: t }, t)));
  document.body.dataset.ready = 'true';
  if (tokenInput.value) await show();
  else setStatus(config.dev_token_path ? 'Paste a bearer token or get a dev token, then Show.' : 'Paste a bearer token, then Show.');
}

void start();
