/**
 * One raw page of 1,000 rows over 31 days, the old way (rows parsed into objects, formatRow,
 * JSON.stringify) and the new (readRawPageJson: the rows' JSON from PostgreSQL), on the suite's
 * server with 20,000 seeded runs: PostgreSQL's execution time (EXPLAIN ANALYZE, three times each) and
 * the API process's CPU per page (20 pages, twice each). Not part of the suite (bench/ is not in its
 * spec); run it under the exclusive lock:
 *   flock -x /tmp/es-cpu.lock node node_modules/mocha/bin/mocha.js bench/raw-page-cost.test.ts
 */
import type { Access } from '../src/auth/acl.ts';
import { buildRawJsonQuery, buildRawStatsQuery, readRawPageJson, readRawStats, type RawStatsRequest } from '../src/raw/raw-stats.ts';
import { DAY_MS } from '../src/rollup/window.ts';
import { NOW, seededDatabase } from '../test/helpers/fixtures.ts';

describe('the cost of one 1,000-row raw page, old and new', function () {
  this.timeout(600_000);
  it('prints PostgreSQL time and the process CPU per page', async () => {
    const s = await seededDatabase({ runs: 20_000, days: 30, refresh: false });
    try {
      const req: RawStatsRequest = { start: NOW - 31 * DAY_MS + 1, end: NOW, cursor: null, limit: 1000 };
      const all: Access = { kind: 'all' };
      for (const [name, q] of [['old', buildRawStatsQuery(req, all)], ['new', buildRawJsonQuery(req, all)]] as const) {
        for (let i = 0; i < 3; i++) {
          const { rows } = await s.db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, TIMING OFF) ${q.text}`, q.values as unknown[]);
          process.stdout.write(`      ${name} statement: ${rows.at(-1)!['QUERY PLAN']}\n`);
        }
      }
      const paths = [
        ['old', async () => JSON.stringify((await readRawStats(s.executor, req, all)).rows)],
        ['new', async () => (await readRawPageJson(s.executor, req, all)).rowsJson],
      ] as const;
      for (const [name, page] of paths) {
        for (let k = 0; k < 2; k++) {
          const t0 = performance.now();
          const c0 = process.cpuUsage();
          for (let i = 0; i < 20; i++) await page();
          const c = process.cpuUsage(c0);
          process.stdout.write(`      ${name} page: ${((performance.now() - t0) / 20).toFixed(1)} ms wall, ${((c.user + c.system) / 1000 / 20).toFixed(1)} ms of this process's CPU\n`);
        }
      }
    } finally {
      await s.close();
    }
  });
});
