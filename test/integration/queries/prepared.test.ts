/**
 * Named statements per connection (src/db/prepared.ts) on a real server: a connection that runs many
 * request shapes keeps at most DB_PREPARED_MAX of them prepared (PostgreSQL's own count, in
 * pg_prepared_statements), and every answer still equals the oracle, evicted shapes run again included.
 */
import os from 'node:os';
import { expect } from 'chai';
import { pino } from 'pino';
import { loadConfig } from '../../../src/core/config.ts';
import type { Executor } from '../../../src/db/executor.ts';
import { PartsCache } from '../../../src/read/parts-cache.ts';
import { DAY_MS, HOUR_MS } from '../../../src/rollup/window.ts';
import { createApiDatabase } from '../../../src/runtime.ts';
import { readerUrl } from '../../helpers/database.ts';
import { compareAll, expectSameRows, type Window } from '../../helpers/exact.ts';
import { NOW, seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';

const WINDOWS: Window[] = [
  { timestamp_start: NOW - 7 * DAY_MS + 12_345, timestamp_end: NOW - 54_321 },
  { timestamp_start: NOW - 20 * DAY_MS - 3 * HOUR_MS + 17, timestamp_end: NOW - 2 * DAY_MS + 5_000 },
];

describe('named statements per connection', function () {
  this.timeout(180_000);
  let s: SeededDatabase;

  before(async () => {
    s = await seededDatabase({ runs: 1_500, days: 30 });
  });
  after(async () => s?.close());

  /** Every compiled query's shapes over WINDOWS three times on one connection (the 2nd and 3rd read cached segments: named statements), in real time and not; what the session holds then. */
  async function readOnOneConnection(preparedMax: number): Promise<{ held: number; shaped: number; names: number; generic: number; custom: number }> {
    const config = loadConfig({ CONF_DIR: os.tmpdir(), DB_POOL_MAX: '1', DB_PREPARED_MAX: String(preparedMax) });
    const { pool, executor: inner } = await createApiDatabase(config.db, await readerUrl(s.db.url), pino({ level: 'silent' }));
    try {
      const names = new Set<string>();
      const executor: Executor = {
        query: (q) => {
          if (q.name?.startsWith('es_')) names.add(q.name);
          return inner.query(q);
        },
      };
      const cache = new PartsCache({ stateTtlMs: 0 });
      for (const realtime of [false, true, false, true, false]) {
        const compared = await compareAll(s.db.pool, WINDOWS, NOW, { executor, cache, realtime });
        expect(compared.length).to.be.greaterThan(0);
        for (const c of compared) expectSameRows(c.actual, c.expected, { realtime, preparedMax, ...c.context });
      }
      // The pool's one connection: the session that ran every statement above.
      const { rows } = await pool.query<{ held: number; shaped: number; generic: number; custom: number }>(
        `SELECT count(*)::int AS held, count(*) FILTER (WHERE name LIKE 'es\\_%')::int AS shaped,
                coalesce(sum(generic_plans), 0)::int AS generic, coalesce(sum(custom_plans), 0)::int AS custom
           FROM pg_prepared_statements`,
      );
      return { ...rows[0]!, names: names.size };
    } finally {
      await pool.end();
    }
  }

  it('keeps at most DB_PREPARED_MAX of them on a connection that runs many request shapes, every answer equal to the oracle', async () => {
    const bounded = await readOnOneConnection(3);
    expect(bounded.names, 'the reads named more shapes than the bound (what is being tested)').to.be.greaterThan(3);
    expect(bounded.held, 'prepared on the session').to.be.at.most(3);
    expect(bounded.shaped, 'shape statements among them').to.be.greaterThan(0);
  });

  it('plans them once: generic plans only (PostgreSQL would keep custom plans, planned at every execution)', async () => {
    const { generic, custom } = await readOnOneConnection(1_000);
    expect(generic).to.be.greaterThan(0);
    expect(custom).to.equal(0);
  });

  it('runs them under generic plans without parallel workers, and every other statement under the session settings', async () => {
    const config = loadConfig({ CONF_DIR: os.tmpdir(), DB_POOL_MAX: '1' });
    const { pool, executor } = await createApiDatabase(config.db, await readerUrl(s.db.url), pino({ level: 'silent' }));
    try {
      const settings = `SELECT current_setting('plan_cache_mode') AS mode, current_setting('max_parallel_workers_per_gather') AS workers,
                               (SELECT reset_val FROM pg_settings WHERE name = 'max_parallel_workers_per_gather') AS session_workers`;
      type Settings = { mode: string; workers: string; session_workers: string };
      const [named] = await executor.query<Settings>({ text: settings, values: [], name: 'es_settings_check' });
      expect(named).to.include({ mode: 'force_generic_plan', workers: '0' });
      const [unnamed] = await executor.query<Settings>({ text: `${settings} -- unnamed`, values: [] });
      expect(unnamed!.mode).to.equal('auto');
      expect(unnamed!.workers, 'the session setting again').to.equal(unnamed!.session_workers);
    } finally {
      await pool.end();
    }
  });

  it('keeps every shape without the bound (so the bound above is what held them down)', async () => {
    const unbounded = await readOnOneConnection(1_000);
    expect(unbounded.shaped).to.equal(unbounded.names);
    expect(unbounded.held).to.be.greaterThan(3);
  });

  it('prepares nothing with DB_PREPARED_MAX=0, and answers the same', async () => {
    const none = await readOnOneConnection(0);
    expect(none).to.deep.equal({ held: 0, shaped: 0, names: none.names, generic: 0, custom: 0 });
  });
});
