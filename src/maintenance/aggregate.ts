/**
 * The SQL of a compiled query's materialization, generated from its declaration (the RollupSpec in
 * its file under src/declarations/): the aggregation of a set of facts into the view layout, the merge of
 * such an aggregate into the history table, and the DDL of the view, the history table and the
 * relation reads go through. The migration generator (src/cli/migration-query.ts) writes the DDL
 * into a migration; the maintenance cycle (src/maintenance/cycle.ts) runs the rest.
 *
 * Layout (every view and history table): lvl, grain_ms, bucket (epoch ms), null_mask, the
 * dimensions (NOT NULL text, '' where null_mask marks them NULL), and the measures; the key is in
 * that order, the columns are stored widest-aligned first (storedColumns). A level keeps
 * its `recent` grains only for facts at or after the query's fine_from (a day boundary, kept in
 * eventstats.maintenance); its other grains hold every fact.
 */
import { GRAIN_MS, type Grain } from '../rollup/window.ts';
import { floorExpr, keyColumns, relationsOf } from '../rollup/layout.ts';
import type { Dim, Level, Measure, RollupSpec } from '../rollup/spec.ts';

const typeOf = (m: Measure) => m.type ?? 'bigint';

/** A column of the view and the history table, with its type's alignment (bytes; 1: variable length). */
interface StoredColumn {
  readonly name: string;
  readonly type: string;
  readonly align: number;
}

/**
 * The columns of the view and the history table in storage order: 8-byte aligned first (grain_ms,
 * bucket, bigint measures), then 4-byte (lvl, null_mask), then the variable-length ones (the text
 * dimensions, numeric measures), so that no row carries alignment padding between them. Against
 * key order it saves 3-5% of the rows' size (docs/BENCHMARKS.md).
 */
export function storedColumns(spec: RollupSpec): StoredColumn[] {
  const cols: StoredColumn[] = [
    { name: 'lvl', type: 'integer', align: 4 },
    { name: 'grain_ms', type: 'bigint', align: 8 },
    { name: 'bucket', type: 'bigint', align: 8 },
    { name: 'null_mask', type: 'integer', align: 4 },
    ...spec.dims.map((d) => ({ name: d, type: 'text', align: 1 })),
    ...Object.entries(spec.measures).map(([name, m]) => ({ name, type: typeOf(m), align: typeOf(m) === 'bigint' ? 8 : 1 })),
  ];
  // A stable sort: equal alignments keep their declared order.
  return cols.sort((a, b) => b.align - a.align);
}

/** Facts to aggregate: a FROM clause with the aliases the spec's fact expressions use, and conditions. */
export interface FactSelection {
  readonly from: string;
  readonly where: readonly string[];
  /** A signed source (a change log): each measure's raw value is multiplied by this expression. */
  readonly sign?: string;
  /**
   * Most facts of a table (a rebuild): each level reads the base tables itself rather than all
   * facts being written to a tuplestore first (which spills to disk, and keeps the join serial).
   */
  readonly bulk?: boolean;
}

/** The facts as rows: ts, d_<dim> (text, may be NULL), m_<measure>. */
export function factsSql(spec: RollupSpec, sel: FactSelection): string {
  const cols = [`${spec.facts.ts} AS ts`];
  for (const d of spec.dims) {
    const expr = spec.facts.dims[d];
    if (!expr) throw new Error(`dimension ${d} of ${spec.view} has no fact expression`);
    cols.push(`(${expr})::text AS d_${d}`);
  }
  for (const [name, m] of Object.entries(spec.measures)) {
    if (sel.sign && m.combine !== 'sum') throw new Error(`${spec.view}.${name}: a signed (change-log) source needs sum measures, not ${m.combine}`);
    cols.push(`${sel.sign ? `(${m.raw}) * ${sel.sign}` : m.raw} AS m_${name}`);
  }
  const where = [`${spec.facts.ts} IS NOT NULL`, ...sel.where];
  return `SELECT ${cols.join(', ')}\n  FROM ${sel.from}\n WHERE ${where.join('\n   AND ')}`;
}

/** A measure combined over rows of a finer grain (sums of sums, maxima of maxima), in its column type. */
export const rollupMeasure = (expr: string, m: Measure) => `(${m.combine}(${expr}))::${typeOf(m)}`;

/** The grains a level's base rows are grouped at: its finest grain holding every fact, and its finest recent one. */
function baseGrains(level: Level): { gOld: number; gNew: number } {
  const recent = level.recent ?? [];
  const older = level.grains.filter((g) => !recent.includes(g));
  const finest = (gs: readonly Grain[]) => GRAIN_MS[gs.at(-1)!];
  if (!older.length) throw new Error(`lvl ${level.id}: at least one grain must hold every fact`);
  const gOld = finest(older);
  return { gOld, gNew: recent.length ? finest(recent) : gOld };
}

/**
 * Rows grouped by some dimensions, per bucket of gNew for facts at or after fine_from (`recent`)
 * and of gOld before: a level's base, or a helper several levels' bases are rolled up from.
 * Columns: b, recent, d_<dim>..., m_<measure>...
 */
export interface Base {
  readonly name: string;
  readonly dims: readonly Dim[];
  readonly gOld: number;
  readonly gNew: number;
  /** The base it is rolled up from; absent: from the facts. */
  parent?: Base;
}

/** Whether `child` can be rolled up from `parent`: every dimension it holds, at grains that divide its own. */
const rollsUpFrom = (child: Omit<Base, 'name'>, parent: Base) =>
  child.dims.every((d) => parent.dims.includes(d)) && child.gOld % parent.gOld === 0 && child.gNew % parent.gNew === 0;

/**
 * Where each level's base comes from in a bulk aggregate (a rebuild reads every fact once per base
 * that comes from the facts): from the smallest base already planned that holds its dimensions at
 * grains as fine as its own (as Kylin builds a cuboid from its smallest parent), else from the
 * facts. Levels with the most dimensions are planned first; levels that have no such parent and
 * keep the same all-history grain share a helper base of their dimensions' union when that union
 * leaves a dimension out (so it compresses): at mv_job_facts, TP, TPE, K and EK are rolled up from
 * one TPEK base by hour (by minute in the recent tier) instead of four reads of the facts.
 */
export function planBases(spec: RollupSpec, bulk: boolean): Base[] {
  if (!bulk) return spec.levels.map((l) => ({ name: `base_${l.id}`, dims: l.dims, ...baseGrains(l) }));
  const order = [...spec.levels].sort((a, b) => b.dims.length - a.dims.length);
  const planned: Base[] = [];
  for (const l of order) {
    const shape = { dims: l.dims, ...baseGrains(l) };
    const parent = planned.filter((p) => rollsUpFrom(shape, p)).sort((a, b) => a.dims.length - b.dims.length)[0];
    const base: Base = { name: `base_${l.id}`, ...shape, ...(parent ? { parent } : {}) };
    planned.push(base);
  }
  // The levels still read from the facts, by the grain they keep for all history: two or more
  // that a base of their dimensions' union (leaving a dimension out) can feed share one.
  const helpers: Base[] = [];
  const fromFacts = new Map<number, Base[]>();
  for (const b of planned) if (!b.parent) fromFacts.set(b.gOld, [...(fromFacts.get(b.gOld) ?? []), b]);
  for (const [gOld, group] of fromFacts) {
    const dims = spec.dims.filter((d) => group.some((b) => b.dims.includes(d)));
    if (group.length < 2 || dims.length === spec.dims.length) continue;
    const helper: Base = { name: `helper_${helpers.length}`, dims, gOld, gNew: Math.min(...group.map((b) => b.gNew)) };
    helpers.push(helper);
    for (const b of group) b.parent = helper;
  }
  // Parents before children: a WITH list refers only to the parts before it.
  const bases: Base[] = [];
  const add = (b: Base) => {
    if (bases.includes(b)) return;
    if (b.parent) add(b.parent);
    bases.push(b);
  };
  for (const h of helpers) add(h);
  for (const b of planned) add(b);
  return bases;
}

/** A base's rows: the facts grouped (from `f`), or its parent's rows rolled up to its grains and dimensions. */
function baseSql(spec: RollupSpec, base: Base, fineFrom: string): string {
  const m = Object.entries(spec.measures);
  const dims = base.dims.map((d) => (base.parent ? `p.d_${d}` : `f.d_${d}`));
  const groupBy = `GROUP BY 1, 2${dims.map((_, i) => `, ${i + 3}`).join('')}`;
  if (!base.parent) {
    return (
      `SELECT CASE WHEN f.ts >= ${fineFrom} THEN ${floorExpr('f.ts', base.gNew)} ELSE ${floorExpr('f.ts', base.gOld)} END AS b, ` +
      `f.ts >= ${fineFrom} AS recent${dims.map((d) => `, ${d}`).join('')}` +
      m.map(([name, x]) => `, ${x.combine}(f.m_${name}) AS m_${name}`).join('') +
      `
    FROM f ${groupBy}`
    );
  }
  // A parent's bucket lies wholly before or after fine_from (a day boundary), so its flag carries over.
  return (
    `SELECT CASE WHEN p.recent THEN ${floorExpr('p.b', base.gNew)} ELSE ${floorExpr('p.b', base.gOld)} END AS b, ` +
    `p.recent${dims.map((d) => `, ${d}`).join('')}` +
    m.map(([name, x]) => `, ${rollupMeasure(`p.m_${name}`, x)} AS m_${name}`).join('') +
    `
    FROM ${base.parent.name} p ${groupBy}`
  );
}

/**
 * One level's rows at every grain, from its base (the facts grouped once at the level's finest
 * grains: its recent grains from fine_from on, its finest other grain before), every grain rolled
 * up from that: one pass over the base per level, whatever its grain count.
 */
function levelGrainsSql(spec: RollupSpec, level: Level): string[] {
  const recent = level.recent ?? [];
  const m = Object.entries(spec.measures);
  const leftOut = spec.dims.reduce((mask, d, i) => (level.dims.includes(d) ? mask : mask | (1 << i)), 0);
  const nullBits = level.dims.map((d) => ` | CASE WHEN b.d_${d} IS NULL THEN ${1 << spec.dims.indexOf(d)} ELSE 0 END`).join('');
  const stored = storedColumns(spec);
  const bucketPosition = stored.findIndex((c) => c.name === 'bucket') + 1;
  return level.grains.map((grain) => {
    const g = GRAIN_MS[grain];
    const value: Record<string, string> = {
      lvl: `${level.id}`,
      grain_ms: `${g}::bigint`,
      bucket: floorExpr('b.b', g),
      null_mask: `(${leftOut}${nullBits})`,
      ...Object.fromEntries(spec.dims.map((d) => [d, level.dims.includes(d) ? `coalesce(b.d_${d}, '')` : `''::text`])),
      ...Object.fromEntries(m.map(([name, x]) => [name, rollupMeasure(`b.m_${name}`, x)])),
    };
    const cols = stored.map((c) => `${value[c.name]} AS ${c.name}`);
    const groupBy = [String(bucketPosition), ...level.dims.map((d) => `b.d_${d}`)];
    return `SELECT ${cols.join(', ')}
    FROM base_${level.id} b${recent.includes(grain) ? ' WHERE b.recent' : ''}
   GROUP BY ${groupBy.join(', ')}`;
  });
}

/**
 * The aggregate of a fact selection in the view layout (every level, every grain). `fineFrom` is an
 * SQL expression: recent grains get rows only for facts at or after it. In a bulk aggregate (a
 * rebuild) a level's base may be rolled up from another's (planBases).
 */
export function aggregateSql(spec: RollupSpec, sel: FactSelection, fineFrom: string): string {
  for (const l of spec.levels) baseGrains(l);
  const bases = planBases(spec, sel.bulk === true);
  const ctes = [`f AS ${sel.bulk ? 'NOT ' : ''}MATERIALIZED (\n${factsSql(spec, sel)}\n)`, ...bases.map((b) => `${b.name} AS MATERIALIZED (\n  ${baseSql(spec, b, fineFrom)}\n)`)];
  return `WITH ${ctes.join(',\n')}\n${spec.levels.flatMap((l) => levelGrainsSql(spec, l)).join('\nUNION ALL\n')}`;
}

const mergeExpr = (name: string, m: Measure) => {
  switch (m.combine) {
    case 'sum':
      return `CASE WHEN h.${name} IS NULL THEN excluded.${name} WHEN excluded.${name} IS NULL THEN h.${name} ELSE h.${name} + excluded.${name} END`;
    case 'max':
      return `greatest(h.${name}, excluded.${name})`;
    case 'min':
      return `least(h.${name}, excluded.${name})`;
  }
};

/** Adds the aggregate of a fact selection into the history table: sums add up, maxima and minima combine. */
export function mergeIntoHistorySql(spec: RollupSpec, sel: FactSelection, fineFrom: string): string {
  const { history } = relationsOf(spec);
  const cols = storedColumns(spec).map((c) => c.name);
  const set = Object.entries(spec.measures).map(([name, m]) => `${name} = ${mergeExpr(name, m)}`);
  return `INSERT INTO ${history} AS h (${cols.join(', ')})\n${aggregateSql(spec, sel, fineFrom)}\nON CONFLICT (${keyColumns(spec).join(', ')}) DO UPDATE SET ${set.join(', ')}`;
}

/** The (lvl, grain_ms) pairs a level keeps only from fine_from on. */
export function recentGrains(spec: RollupSpec): { lvl: number; grainMs: number }[] {
  return spec.levels.flatMap((l) => (l.recent ?? []).map((g) => ({ lvl: l.id, grainMs: GRAIN_MS[g] })));
}
