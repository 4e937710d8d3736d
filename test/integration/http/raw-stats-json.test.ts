/**
 * The raw endpoint's JSON rows as PostgreSQL writes them (readRawPageJson, issue 26) against the rows
 * as the API formatted them before (readRawStats, then JSON.stringify, which the CSV answer still
 * uses): the same bytes for every row, on the seeded data and on random rows made to hit every
 * difference between PostgreSQL's rendering and JavaScript's (escapes, Unicode lower case, jsonb
 * spacing and numbers, instants outside the years 1-9999 and past 2^53).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import request from 'supertest';
import type { Access } from '../../../src/auth/acl.ts';
import { okBody } from '../../../src/http/envelope.ts';
import { buildRawJsonQuery, readRawPageJson, readRawStats, type RawStatsRequest } from '../../../src/raw/raw-stats.ts';
import { DAY_MS, EPOCH_MS_MAX, EPOCH_MS_MIN } from '../../../src/rollup/window.ts';
import { NOW, seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';
import { CAROL_CONSTRAINTS, httpHarness, RUNS_TOPIC, type HttpHarness } from '../../helpers/http.ts';
import { propertyOptions } from '../../helpers/property.ts';

const ALL: Access = { kind: 'all' };
const CAROL: Access = { kind: 'constrained', constraints: CAROL_CONSTRAINTS };

/** What each path answers: the rows' JSON text and the paging, or the error it threw. */
async function bothPaths(s: SeededDatabase, req: RawStatsRequest, access: Access) {
  const outcome = async <T>(f: () => Promise<T>) => f().then((v) => ({ ok: v }), (err: Error) => ({ error: `${err.name}: ${err.message}` }));
  const before = await outcome(async () => {
    const page = await readRawStats(s.executor, req, access);
    return { rowsJson: JSON.stringify(page.rows), pagination: page.pagination };
  });
  const after = await outcome(async () => {
    const { rowsJson, rowCount, pagination } = await readRawPageJson(s.executor, req, access);
    expect(rowCount, 'rowCount').to.equal(JSON.parse(rowsJson).length);
    return { rowsJson, pagination };
  });
  return { before, after };
}

// Characters where the two renderings could part: JSON escapes, control characters, DEL, the line
// separators JSON.stringify leaves alone, astral characters, and the letters whose lower case
// differs between JavaScript and PostgreSQL's collations (dotted I, Kelvin sign, final sigma).
const SPECIAL = ['"', '\\', '/', '\n', '\r', '\t', '\b', '\f', '\u0001', '\u001f', '\u007f', '\u0080', '\u2028', '\u2029', 'é', '€', '😀', 'İ', 'ı', 'K', 'Σ', 'ß', 'A', 'Z', ' '];
const text = (maxLength: number) =>
  fc.string({ unit: fc.oneof(fc.constantFrom(...SPECIAL), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength }).map((v) => v.replaceAll('\u0000', ''));
const asciiText = (maxLength: number) => fc.string({ unit: fc.constantFrom(...'abcXYZ-_09 .'), maxLength });
const messageText = fc.oneof(
  fc.constant(null),
  text(40),
  fc.tuple(text(8), fc.constantFrom('no data', 'NO DATA', 'No Data', 'nO dAtA', 'no records to send', 'No Records To Send', 'no  data', 'no record to send', 'İno data'), text(8)).map(([a, b, c]) => a + b + c),
);
const statusText = fc.oneof(fc.constantFrom('failed', 'FAILED', 'Failed', 'faİled', 'FAİLED', 'failed ', 'succeeded', 'killed', 'skipped', 'faİled'), text(12));
// Instants as decimal text (int8 past 2^53 stays exact on its way in): null, the edges of the years
// 1-9999, of 2^53 and of what a JavaScript Date holds, and any int8.
const INT8_MAX = 2n ** 63n - 1n;
const instant = fc.oneof(
  { weight: 6, arbitrary: fc.constant(null) },
  { weight: 32, arbitrary: fc.integer({ min: EPOCH_MS_MIN, max: EPOCH_MS_MAX }).map(String) },
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(EPOCH_MS_MIN, EPOCH_MS_MIN - 1, EPOCH_MS_MAX, EPOCH_MS_MAX + 1, -1, 0, 1, 999, 1000, DAY_MS - 1, -DAY_MS, -DAY_MS - 1, 8.64e15, -8.64e15, 2 ** 53 - 1)
      .map(String),
  },
  { weight: 1, arbitrary: fc.constantFrom(String(8.64e15 + 1), String(2n ** 53n + 1n), String(INT8_MAX), String(-INT8_MAX - 1n)) },
  { weight: 1, arbitrary: fc.bigInt({ min: -INT8_MAX - 1n, max: INT8_MAX }).map(String) },
);
// additional_info as the JSON text written to jsonb: numbers JavaScript rounds or cannot hold,
// integer-like keys (first in a JavaScript object, ordered by length in jsonb), duplicates, nesting.
const infoText = fc.oneof(
  fc.constant(null),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.constantFrom(
    '{"b": 1, "10": 2, "2": 3, "a": {"1": []}}',
    '{"a": 1, "a": 2}',
    '1.0',
    '1e400',
    '-1e-400',
    '12345678901234567890',
    '0.1',
    '1E2',
    '-0',
    '"\\u00e9\\u001f\\n"',
    'null',
    '[1.5e-7, 100000000000000000000000, true, null, ""]',
    '{"__proto__": {"x": 1}}',
  ),
);
const job = fc.record({
  country: fc.option(text(10), { nil: null }),
  catalog_id: text(20),
  status: statusText,
  timestamp_start: instant,
  timestamp_end: instant,
  message: messageText,
  additional_info: infoText,
});
const run = fc.record({
  event_id: text(20),
  job_ref: text(20),
  tenant_id: fc.oneof({ weight: 3, arbitrary: asciiText(12) }, { weight: 1, arbitrary: text(12) }),
  source_app: text(20),
  source_app_version: text(10),
  environment: text(10),
  // The window selects a run by its start, and a window lies within the years 1-9999.
  timestamp_start: fc.integer({ min: EPOCH_MS_MIN, max: EPOCH_MS_MAX }),
  timestamp_end: instant,
  jobs: fc.array(job, { minLength: 1, maxLength: 4 }),
});

describe('POST /stats/{topic_name} as JSON: the rows PostgreSQL writes are the rows the API wrote', function () {
  this.timeout(300_000);
  let s: SeededDatabase;
  let h: HttpHarness;

  before(async () => {
    s = await seededDatabase({ runs: 1_000, days: 30, refresh: false });
    h = await httpHarness(s.executor);
  });
  after(async () => {
    await h?.close();
    await s?.close();
  });

  it('gives the same bytes and paging on the seeded data, 1,000-row pages of 31 days, page after page, for a full and a constrained user', async () => {
    for (const [access, least] of [[ALL, 1000], [CAROL, 100]] as const) {
      let cursor: number | null = null;
      let rows = 0;
      for (let page = 0; page < 4; page++) {
        const req: RawStatsRequest = { start: NOW - 31 * DAY_MS, end: NOW, cursor, limit: 1000 };
        const { before, after } = await bothPaths(s, req, access);
        expect(after).to.deep.equal(before);
        if (!('ok' in before)) throw new Error(before.error);
        rows += JSON.parse(before.ok.rowsJson).length;
        cursor = before.ok.pagination.cursor;
        if (cursor === null) break;
      }
      expect(rows, 'rows compared').to.be.greaterThan(least);
    }
  });

  it('answers the envelope res.json sent before, byte for byte, with its Content-Type', async () => {
    const req: RawStatsRequest = { start: NOW - 7 * DAY_MS, end: NOW, cursor: null, limit: 300 };
    const res = await request(h.app)
      .post(`/stats/${RUNS_TOPIC}`)
      .set('Authorization', h.bearer('alice'))
      .send({ timestamp_start: req.start, timestamp_end: req.end, limit: req.limit })
      .buffer(true)
      .parse((r, done) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (chunk: string) => (body += chunk));
        r.on('end', () => done(null, body));
      })
      .expect(200);
    const page = await readRawStats(s.executor, req, ALL);
    expect(page.rows).to.have.length(300);
    const expected = JSON.stringify(okBody(page.rows, { pagination: page.pagination }));
    expect(res.body).to.equal(expected);
    expect(res.headers['content-type']).to.equal('application/json; charset=utf-8');
    expect(Number(res.headers['content-length'])).to.equal(Buffer.byteLength(expected));
  });

  it('gives the same bytes, or the same error, for random rows, whichever of the two formats each row', async () => {
    let n = 0;
    const counts = { inSql: 0, byFormatRow: 0, failed: 0 };
    await fc.assert(
      fc.asyncProperty(run, async (r) => {
        const id = `${r.event_id}#${n++}`;
        await s.db.pool.query(
          `INSERT INTO public_cps_za_runs (event_id, job_ref, tenant_id, source_app, source_app_version, environment, timestamp_start, timestamp_end)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [id, r.job_ref, r.tenant_id, r.source_app, r.source_app_version, r.environment, r.timestamp_start, r.timestamp_end],
        );
        try {
          for (const j of r.jobs) {
            await s.db.pool.query(
              `INSERT INTO public_cps_za_runs_jobs (event_id, country, catalog_id, status, timestamp_start, timestamp_end, message, additional_info)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
              [id, j.country, j.catalog_id, j.status, j.timestamp_start, j.timestamp_end, j.message, j.additional_info],
            );
          }
          const req: RawStatsRequest = { start: r.timestamp_start, end: r.timestamp_start, cursor: null, limit: 1000 };
          const { before, after } = await bothPaths(s, req, ALL);
          expect(after).to.deep.equal(before);
          if ('ok' in before) expect(JSON.parse(before.ok.rowsJson).length).to.be.at.least(r.jobs.length);
          else counts.failed++;
          const q = buildRawJsonQuery(req, ALL);
          const { rows } = await s.db.pool.query<{ head: string | null }>(q.text, q.values as unknown[]);
          for (const row of rows) counts[row.head === null ? 'byFormatRow' : 'inSql']++;
        } finally {
          await s.db.pool.query('DELETE FROM public_cps_za_runs_jobs WHERE event_id = $1', [id]);
          await s.db.pool.query('DELETE FROM public_cps_za_runs WHERE event_id = $1', [id]);
        }
      }),
      propertyOptions(300),
    );
    process.stdout.write(`      rows formatted in PostgreSQL: ${counts.inSql}, by formatRow: ${counts.byFormatRow}; cases both paths refused: ${counts.failed}\n`);
    // Both ways of formatting were compared, not one of them only.
    expect(counts.inSql).to.be.greaterThan(100);
    expect(counts.byFormatRow).to.be.greaterThan(20);
    expect(counts.failed).to.be.greaterThan(5);
  });
});
