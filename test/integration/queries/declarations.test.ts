/**
 * Drift between each compiled query's declaration (its rollup spec in src/declarations/) and the view its
 * migrations built: the columns, the unique key, which levels and grains the view holds and the
 * null_mask bits of each level, the filter indexes its levels declare. Every mismatch names the
 * view, and the level and grain.
 */
import { expect } from 'chai';
import type pg from 'pg';
import { registeredViews } from '../../../src/declarations/index.ts';
import { filterIndexName } from '../../../src/maintenance/ddl.ts';
import { refreshViews } from '../../../src/refresh/refresh-view.ts';
import type { RollupSpec } from '../../../src/rollup/spec.ts';
import { storedColumns } from '../../../src/maintenance/aggregate.ts';
import { relationsOf, viewBaseName } from '../../../src/rollup/layout.ts';
import { GRAIN_MS } from '../../../src/rollup/window.ts';
import { REFRESH_OPTIONS, seededDatabase, type SeededDatabase } from '../../helpers/fixtures.ts';

const KEY_PREFIX = ['lvl', 'grain_ms', 'bucket', 'null_mask'];

async function columnsOf(pool: pg.Pool, view: string): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT attname AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [view],
  );
  return rows.map((r) => r.name);
}

/** The columns of the view's unique index, in index order. */
async function uniqueKeyOf(pool: pg.Pool, view: string): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT a.attname AS name
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, pos)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1::regclass AND i.indisunique
      ORDER BY k.pos`,
    [view],
  );
  return rows.map((r) => r.name);
}

/** The null_mask bits a level must set: the view's dimensions that the level leaves out. */
function leftOutMask(spec: RollupSpec, dims: readonly string[]): number {
  return spec.dims.reduce((mask, d, i) => (dims.includes(d) ? mask : mask | (1 << i)), 0);
}

describe("each view against its declaration (drift)", function () {
  this.timeout(120_000);
  let s: SeededDatabase;
  // Data up to the fixture's now, so every recent tier has rows.
  before(async () => {
    s = await seededDatabase({ runs: 1_500, days: 20 });
  });
  after(async () => s?.close());

  // Each view against its own declaration: a view several queries read (mv_job_facts) once.
  for (const v of registeredViews()) {
    const spec = v.spec;
    const q = { name: viewBaseName(v.name) };

    const { history, buckets } = relationsOf(spec);
    it(`${q.name}: ${spec.view} and ${history} have the declared dimensions and measures as columns, and their key`, async () => {
      for (const relation of [spec.view, history]) {
        const columns = await columnsOf(s.db.pool, relation);
        const key = [...KEY_PREFIX, ...spec.dims];
        const measures = Object.values(spec.measures).map((m) => m.view.replace(/^v\./, ''));
        expect([...columns].sort(), `${relation}: columns`).to.deep.equal([...key, ...measures].sort());
        expect(columns, `${relation}: storage order`).to.deep.equal(storedColumns(spec).map((c) => c.name));
        expect(await uniqueKeyOf(s.db.pool, relation), `${relation}: unique index`).to.deep.equal(key);
      }
    });

    it(`${q.name}: ${history} has exactly the filter indexes its levels declare, and a rebuild keeps them`, async () => {
      const declared = spec.levels.flatMap((l) => (l.indexes ?? []).map((d) => `${filterIndexName(spec, l.id, d)}|(grain_ms, ${d}, bucket)|(lvl = ${l.id})`)).sort();
      const found = async () => {
        const { rows } = await s.db.pool.query<{ name: string; def: string }>(
          `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = 'eventstats' AND tablename = $1 AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_empty'`,
          [history.replace(/^eventstats\./, '')],
        );
        return rows.map((r) => `${r.name}|${/\(([^)]*)\)/.exec(r.def)![0]}|${/WHERE (.*)$/.exec(r.def)?.[1] ?? ''}`).sort();
      };
      expect(await found(), `${history}: filter indexes`).to.deep.equal(declared);
      const [r] = await refreshViews(s.db.pool, registeredViews().filter((v) => v.name === spec.view), { ...REFRESH_OPTIONS, rebuild: true });
      expect(r!.outcome, r!.error).to.equal('refreshed');
      expect(await found(), `${history}: filter indexes after a rebuild`).to.deep.equal(declared);
    });

    it(`${q.name}: ${spec.view} holds exactly the declared levels and grains, each with its null_mask`, async () => {
      const { rows } = await s.db.pool.query<{ lvl: number; grain_ms: string; masks: number[] }>(
        `SELECT lvl, grain_ms, array_agg(DISTINCT null_mask ORDER BY null_mask) AS masks FROM ${buckets} GROUP BY 1, 2 ORDER BY 1, 2`,
      );
      const held = rows.map((r) => `lvl ${r.lvl} at ${Number(r.grain_ms)} ms`);
      const declared = spec.levels
        .flatMap((l) => l.grains.map((g) => ({ id: l.id, ms: GRAIN_MS[g] })))
        .sort((a, b) => a.id - b.id || a.ms - b.ms)
        .map((x) => `lvl ${x.id} at ${x.ms} ms`);
      expect(held, `${spec.view}: levels and grains`).to.deep.equal(declared);
      for (const r of rows) {
        const level = spec.levels.find((l) => l.id === r.lvl)!;
        const out = leftOutMask(spec, level.dims);
        for (const mask of r.masks) {
          expect(mask & out, `${spec.view} lvl ${r.lvl} grain ${Number(r.grain_ms)} ms: null_mask ${mask} must flag the dimensions the level leaves out`).to.equal(out);
        }
      }
    });
  }
});
