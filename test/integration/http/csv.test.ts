/**
 * CSV answers: every compiled query (GET and POST, `format` or Accept) and the raw endpoint, read
 * back with a strict RFC 4180 reader and compared with the JSON answer to the same request, cell by
 * cell. Errors stay JSON.
 */
import { expect } from 'chai';
import request from 'supertest';
import { PAGING_HEADERS } from '../../../src/http/answer.ts';
import { parameterTakes, queryStringParams } from '../../../src/http/query-string.ts';
import { SUPPORTED_QUERIES } from '../../../src/declarations/index.ts';
import type { CompiledQuery } from '../../../src/declarations/types.ts';
import { DAY_MS } from '../../../src/rollup/window.ts';
import { RAW_STATS_COLUMNS } from '../../../src/raw/raw-stats.ts';
import { bodyObject } from '../../../src/core/validation.ts';
import { okBody } from '../../../src/http/envelope.ts';
import { prepareQuery } from '../../../src/read/execute.ts';
import { PartsCache } from '../../../src/read/parts-cache.ts';
import { csvObjects, expectedCell, parseCsv, type Cell } from '../../helpers/csv.ts';
import { insertHandRun, NOW, seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { httpHarness, onlyError, RUNS_TOPIC, type HttpHarness } from '../../helpers/http.ts';

type Row = Record<string, unknown>;

const CSV_TYPE = 'text/csv; charset=utf-8';
const FAILED_JOBS = `/stats/${RUNS_TOPIC}/query/failed_jobs`;
const RAW = `/stats/${RUNS_TOPIC}`;
const pathOf = (q: Pick<CompiledQuery, 'topic' | 'name'>) => `/stats/${q.topic}/query/${q.name}`;

/** A run far before the seeded 30 days, its jobs holding what CSV must carry through. */
const T0 = Date.UTC(2026, 7, 3, 23, 30, 0, 0);
const HAND_RUN = {
  event_id: 'csv-run',
  job_ref: 'ref "csv", 1',
  tenant_id: 'Tenant-CSV',
  source_app: 'app,csv',
  source_app_version: '1.0',
  environment: 'prod',
  timestamp_start: T0,
  timestamp_end: T0 + 3_600_000,
};
const HAND_JOBS = [
  { country: 'ZA', catalog_id: 'cat-a', status: 'failed', timestamp_start: T0 + 1_000, timestamp_end: T0 + 61_500, message: 'line one\r\nline "two", three', additional_info: { attempt: 1, note: 'a,b' } },
  { country: null, catalog_id: 'cat-b', status: 'succeeded', timestamp_start: null, timestamp_end: null, message: null, additional_info: null },
  { country: 'KE', catalog_id: '=1+2', status: 'FAILED', timestamp_start: T0, timestamp_end: T0, message: 'lone\nlf and lone\rcr', additional_info: ['x', 2] },
  { country: '', catalog_id: 'cat-d', status: 'skipped', timestamp_start: T0 + 5, timestamp_end: null, message: '', additional_info: 'just a string' },
  { country: 'BW', catalog_id: 'cat-e', status: 'succeeded', timestamp_start: T0 + 7, timestamp_end: T0 + 9, message: 'ünïcødé 😀', additional_info: 3.25 },
] as const;
const HAND_WINDOW = { timestamp_start: T0, timestamp_end: T0 };

/** The epoch-ms columns a query declares (a CSV answer adds their ISO twins). */
const epochColumns = (query: CompiledQuery) => new Set(query.columns.filter((c) => c.epochMs).map((c) => c.name));
const RAW_EPOCH = new Set(RAW_STATS_COLUMNS.filter((c) => c.kind === 'epoch_ms').map((c) => c.name as string));

/**
 * Checks a CSV text against the JSON rows of the same request: the header is the JSON keys in order,
 * each epoch-ms one followed by `<key>_iso`; every cell is the JSON value as JSON writes it (null:
 * an empty unquoted field), numbers read back to the same number, and each twin is the ISO instant.
 */
function expectCsvOf(text: string, rows: readonly Row[], epoch: ReadonlySet<string>, cell: (key: string, value: unknown) => Cell = (_k, v) => expectedCell(v)): void {
  const { header, rows: parsed } = csvObjects(text);
  if (rows.length > 0) expect(header).to.deep.equal(Object.keys(rows[0]!).flatMap((k) => (epoch.has(k) ? [k, `${k}_iso`] : [k])));
  expect(parsed).to.have.length(rows.length);
  rows.forEach((row, i) => {
    for (const [key, value] of Object.entries(row)) {
      const got = parsed[i]![key];
      expect(got, `row ${i} ${key}`).to.equal(cell(key, value));
      if (typeof value === 'number') expect(Number(got), `row ${i} ${key}`).to.equal(value);
      if (epoch.has(key)) expect(parsed[i]![`${key}_iso`], `row ${i} ${key}_iso`).to.equal(value === null ? null : new Date(value as number).toISOString());
    }
  });
}

describe('CSV answers', function () {
  this.timeout(180_000);
  let s: SeededDatabase;
  let h: HttpHarness;
  const handIds: number[] = [];

  const get = (path: string, search = '') => request(h.app).get(search ? `${path}?${search}` : path).set('Authorization', h.bearer('alice'));
  const post = (path: string, body: object) => request(h.app).post(path).set('Authorization', h.bearer('alice')).send(body);

  before(async () => {
    s = await seededDatabase({ runs: 2_000, days: 30 });
    h = await httpHarness(s.executor);
    handIds.push(...(await insertHandRun(s.db.pool, HAND_RUN, HAND_JOBS)));
  });
  after(async () => {
    await h?.close();
    await s?.close();
  });

  describe('of a compiled query', () => {
    for (const query of SUPPORTED_QUERIES) {
      it(`${query.name}: reads back, cell by cell, as the JSON rows of the same request`, async () => {
        const search = `days=30${parameterTakes(query).has('group_by') ? '&group_by=tenant_id,environment' : ''}`;
        const json = await get(pathOf(query), search).expect(200);
        const csv = await get(pathOf(query), `${search}&format=csv`).expect(200);
        expect(csv.headers['content-type']).to.equal(CSV_TYPE);
        expect(json.body.data.length).to.be.greaterThan(1);
        expectCsvOf(csv.text, json.body.data as Row[], epochColumns(query));
      });
    }

    // Rows made one per merged row reuse their JSON text while the merged row is the same object
    // (src/http/row-texts.ts): the second and third reads of a window with raw edges take most rows'
    // texts from the first. Every body is byte for byte JSON.stringify of the envelope around the rows
    // a fresh read (its own parts cache, nothing reused) gives.
    for (const [name, search] of [
      ['failed_jobs', 'days=7&group_by=tenant_id,environment'],
      ['failed_jobs', 'days=7&group_by=environment,tenant_id&limit=3'],
      ['failed_jobs_by_country', 'days=7'],
      ['aggregation_by_catalog', 'days=7'],
      ['aggregation_by_catalog', `timestamp_start=${NOW - 3 * DAY_MS + 1_234}&timestamp_end=${NOW - 61_000}`],
    ] as const) {
      it(`${name} (${search}): a JSON answer, read again with its row texts reused, is byte for byte JSON.stringify of its envelope`, async () => {
        const query = SUPPORTED_QUERIES.find((q) => q.name === name)!;
        const texts: string[] = [];
        for (let i = 0; i < 3; i++) texts.push((await get(pathOf(query), search).expect(200)).text);
        const input = bodyObject(queryStringParams({ originalUrl: `${pathOf(query)}?${search}` } as never, query));
        const fresh = await prepareQuery(query, input, { kind: 'all' }, NOW).run(s.executor, new PartsCache(), true);
        expect(fresh.data.length).to.be.greaterThan(1);
        for (const text of texts) {
          const { params, meta } = JSON.parse(text) as { params: Record<string, unknown>; meta: Record<string, unknown> };
          expect(text).to.equal(JSON.stringify(okBody(fresh.data, { topic: RUNS_TOPIC, query: name, params, meta })));
        }
      });
    }

    it('adds an ISO twin after every instant: bucket_start, last_failure_at, last_job_at', () => {
      const declared = SUPPORTED_QUERIES.flatMap((q) => [...epochColumns(q)]);
      expect(declared).to.have.members(['bucket_start', 'last_failure_at', 'last_job_at']);
    });

    it('is the same CSV however it is asked for: format or Accept, GET or POST; format=json wins over Accept', async () => {
      const search = 'days=30&group_by=environment';
      const body = { days: 30, group_by: ['environment'] };
      const byFormat = await get(FAILED_JOBS, `${search}&format=csv`).expect(200);
      const answers = [
        await get(FAILED_JOBS, search).set('Accept', 'text/csv'),
        await get(FAILED_JOBS, search).set('Accept', 'application/json;q=0.5, text/csv'),
        await post(FAILED_JOBS, { ...body, format: 'csv' }),
        await post(FAILED_JOBS, body).set('Accept', 'text/csv'),
      ];
      for (const res of answers) {
        expect(res.status).to.equal(200);
        expect(res.headers['content-type']).to.equal(CSV_TYPE);
        expect(res.text).to.equal(byFormat.text);
        expect(res.headers.etag).to.equal(byFormat.headers.etag);
      }
      const json = await get(FAILED_JOBS, search).expect(200);
      for (const res of [
        await get(FAILED_JOBS, `${search}&format=json`).set('Accept', 'text/csv'),
        await post(FAILED_JOBS, { ...body, format: 'json' }).set('Accept', 'text/csv'),
        await get(FAILED_JOBS, search).set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8'),
        await get(FAILED_JOBS, search).set('Accept', 'image/png'),
      ]) {
        expect(res.headers['content-type']).to.equal('application/json; charset=utf-8');
        // Two deliveries of one answer differ in meta.staleness_ms only (the time since the probe), which the weak ETag leaves out.
        const sansStaleness = (text: string) => ({ ...JSON.parse(text), meta: { ...JSON.parse(text).meta, staleness_ms: null } });
        expect(sansStaleness(res.text)).to.deep.equal(sansStaleness(json.text));
        expect(res.headers.etag).to.equal(json.headers.etag);
      }
      expect(byFormat.headers.etag).not.to.equal(json.headers.etag);
    });

    it('is an attachment named after the query, the topic and the window', async () => {
      const start = Date.UTC(2026, 10, 13, 13, 37, 21, 123);
      const end = Date.UTC(2026, 10, 20, 0, 0, 0, 0);
      const res = await get(FAILED_JOBS, `timestamp_start=${start}&timestamp_end=${end}&format=csv`).expect(200);
      expect(res.headers['content-disposition']).to.equal('attachment; filename="failed_jobs-public.cps.za.runs-20261113T133721.123Z-20261120T000000.000Z.csv"');
      const json = await get(FAILED_JOBS, `timestamp_start=${start}&timestamp_end=${end}`).expect(200);
      expect(json.headers['content-disposition']).to.equal(undefined);
    });

    it('holds the header row alone when no row matches, the group_by keys named', async () => {
      const res = await get(FAILED_JOBS, 'tenant_id=nobody&group_by=tenant_id,environment&format=csv').expect(200);
      expect(res.text).to.equal('"tenant_id","environment","failed_count","job_count","failure_rate","last_failure_at","last_failure_at_iso"\r\n');
    });

    it('ends every record, the last too, with CRLF and quotes every string', async () => {
      const res = await get(FAILED_JOBS, 'days=30&format=csv').expect(200);
      const lines = res.text.split('\r\n');
      expect(lines.at(-1)).to.equal('');
      expect(lines.slice(0, -1).every((l) => !l.includes('\n') && !l.includes('\r'))).to.equal(true);
      expect(lines[1]).to.match(/^"[^"]*","[^"]*",\d+,\d+,[\d.e-]+,(\d+,"[^"]+")?$|^"[^"]*","[^"]*",\d+,\d+,[\d.e-]+,,$/);
    });

    it('answers a bad request in JSON, uncached, whatever asked for CSV', async () => {
      for (const res of [
        await get(FAILED_JOBS, 'days=0&format=csv'),
        await get(FAILED_JOBS, 'days=0').set('Accept', 'text/csv'),
        await post(FAILED_JOBS, { days: 0, format: 'csv' }),
        await post(FAILED_JOBS, { limit: 0 }).set('Accept', 'text/csv'),
        await get(`/stats/${RUNS_TOPIC}/query/nope`, 'format=csv'),
      ]) {
        expect(res.status).to.equal(400);
        expect(res.headers['content-type']).to.equal('application/json; charset=utf-8');
        expect(res.headers['cache-control']).to.equal('no-store');
        expect(res.headers['content-disposition']).to.equal(undefined);
        expect(onlyError(res.body).type).to.equal('validation');
      }
    });

    it("answers 400 naming format when it is not 'json' or 'csv', on GET and POST", async () => {
      for (const res of [await get(FAILED_JOBS, 'format=xlsx'), await post(FAILED_JOBS, { format: 'CSV' }), await post(FAILED_JOBS, { format: 1 })]) {
        expect(res.status).to.equal(400);
        expect(onlyError(res.body).message).to.equal("'format': must be one of 'json', 'csv'");
      }
    });
  });

  describe('of the raw endpoint', () => {
    const additionalInfo = (key: string, value: unknown): Cell => (key === 'additional_info' ? (value === null ? null : JSON.stringify(value)) : expectedCell(value));

    it('reads back as the JSON rows, commas, quotes, line breaks, null and empty strings included', async () => {
      const json = await post(RAW, HAND_WINDOW).expect(200);
      const csv = await post(RAW, { ...HAND_WINDOW, format: 'csv' }).expect(200);
      expect(csv.headers['content-type']).to.equal(CSV_TYPE);
      const rows = json.body.data as Row[];
      expect(rows).to.have.length(HAND_JOBS.length);
      expectCsvOf(csv.text, rows, RAW_EPOCH, additionalInfo);
      const { header } = csvObjects(csv.text);
      expect(header).to.deep.equal(RAW_STATS_COLUMNS.flatMap((c) => (c.kind === 'epoch_ms' ? [c.name, `${c.name}_iso`] : [c.name])));
      // What the hand-made rows were made to carry reached the cells.
      const cells = parseCsv(csv.text).slice(1).flat();
      for (const v of ['line one\r\nline "two", three', 'lone\nlf and lone\rcr', '', 'app,csv', 'ref "csv", 1', '=1+2', '"just a string"', 'ünïcødé 😀']) {
        expect(cells, JSON.stringify(v)).to.include(v);
      }
    });

    it('is the same CSV by Accept: text/csv, and the JSON answer is unchanged by format json', async () => {
      const byFormat = await post(RAW, { ...HAND_WINDOW, format: 'csv' }).expect(200);
      const byAccept = await post(RAW, HAND_WINDOW).set('Accept', 'text/csv').expect(200);
      expect(byAccept.text).to.equal(byFormat.text);
      const plain = await post(RAW, HAND_WINDOW).expect(200);
      const json = await post(RAW, { ...HAND_WINDOW, format: 'json' }).set('Accept', 'text/csv').expect(200);
      expect(json.body).to.deep.equal(plain.body);
      expect(Object.keys(plain.body)).to.deep.equal(['success', 'statusCode', 'pagination', 'data']);
      for (const name of Object.values(PAGING_HEADERS)) expect(plain.headers[name.toLowerCase()], name).to.equal(undefined);
    });

    it('carries the paging in X-Next-Cursor, X-Has-More and X-Limit, and its pages cover the JSON pages', async () => {
      let cursor: number | null = null;
      const seen: number[] = [];
      for (let page = 0; ; page++) {
        const body: Record<string, unknown> = { ...HAND_WINDOW, limit: 2, cursor };
        const json = await post(RAW, body).expect(200);
        const csv = await post(RAW, { ...body, format: 'csv' }).expect(200);
        const { cursor: next, has_more: hasMore, limit } = json.body.pagination as { cursor: number | null; has_more: boolean; limit: number };
        expect(csv.headers[PAGING_HEADERS.cursor.toLowerCase()], `page ${page}`).to.equal(next === null ? undefined : String(next));
        expect(csv.headers[PAGING_HEADERS.hasMore.toLowerCase()]).to.equal(String(hasMore));
        expect(csv.headers[PAGING_HEADERS.limit.toLowerCase()]).to.equal(String(limit));
        const suffix = cursor === null ? '' : `-before${cursor}`;
        expect(csv.headers['content-disposition']).to.equal(`attachment; filename="raw-public.cps.za.runs-20260803T233000.000Z-20260803T233000.000Z${suffix}.csv"`);
        expectCsvOf(csv.text, json.body.data as Row[], RAW_EPOCH, additionalInfo);
        seen.push(...csvObjects(csv.text).rows.map((r) => Number(r.internal_id)));
        if (!hasMore) break;
        cursor = Number(csv.headers[PAGING_HEADERS.cursor.toLowerCase()]);
      }
      expect(seen).to.deep.equal([...handIds].reverse());
    });

    it('clamps the limit as JSON does, and says so in X-Limit', async () => {
      const res = await post(RAW, { timestamp_start: NOW - 30 * DAY_MS, timestamp_end: NOW, limit: 5_000, format: 'csv' }).expect(200);
      expect(res.headers[PAGING_HEADERS.limit.toLowerCase()]).to.equal('1000');
      expect(res.headers[PAGING_HEADERS.hasMore.toLowerCase()]).to.equal('true');
      expect(parseCsv(res.text)).to.have.length(1001);
    });

    it('answers a bad request in JSON, and 400 naming format for an unknown one', async () => {
      for (const res of [await post(RAW, { limit: 0, format: 'csv' }), await post(RAW, { limit: 0 }).set('Accept', 'text/csv')]) {
        expect(res.status).to.equal(400);
        expect(res.headers['content-type']).to.equal('application/json; charset=utf-8');
        expect(onlyError(res.body).message).to.equal("'limit': must be a positive integer");
      }
      const res = await post(RAW, { format: 'tsv' }).expect(400);
      expect(onlyError(res.body).message).to.equal("'format': must be one of 'json', 'csv'");
    });
  });
});
