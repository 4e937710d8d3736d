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
import type { Level, Measure, RollupSpec } from '../rollup/spec.ts';

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

/** The null_mask bits of the spec's dimensions a level leaves out: set on every row of the level. */
export const leftOutMask = (spec: RollupSpec, level: Level): number => spec.dims.reduce((mask, d, i) => (level.dims.includes(d) ? mask : mask | (1 << i)), 0);

/**
 * One level's rows at every grain, from a relation `f` of facts. The facts are grouped once at the
 * level's finest grains (its recent grains from fine_from on, its finest other grain before), and
 * every grain is rolled up from that: one pass over the facts per level, whatever its grain count.
 */
function levelSql(spec: RollupSpec, level: Level, fineFrom: string): { base: string; grains: string[] } {
  const recent = level.recent ?? [];
  const older = level.grains.filter((g) => !recent.includes(g));
  const finest = (gs: readonly Grain[]) => GRAIN_MS[gs.at(-1)!];
  if (!older.length) throw new Error(`${spec.view} lvl ${level.id}: at least one grain must hold every fact`);
  const gOld = finest(older);
  const gNew = recent.length ? finest(recent) : gOld;
  const dims = level.dims.map((d) => `f.d_${d}`);
  const m = Object.entries(spec.measures);
  const base =
    `SELECT CASE WHEN f.ts >= ${fineFrom} THEN ${floorExpr('f.ts', gNew)} ELSE ${floorExpr('f.ts', gOld)} END AS b, ` +
    `f.ts >= ${fineFrom} AS recent${dims.map((d) => `, ${d}`).join('')}` +
    m.map(([name, x]) => `, ${x.combine}(f.m_${name}) AS m_${name}`).join('') +
    `\n    FROM f GROUP BY 1, 2${dims.map((_, i) => `, ${i + 3}`).join('')}`;
  const leftOut = leftOutMask(spec, level);
  const nullBits = level.dims.map((d) => ` | CASE WHEN b.d_${d} IS NULL THEN ${1 << spec.dims.indexOf(d)} ELSE 0 END`).join('');
  const stored = storedColumns(spec);
  const bucketPosition = stored.findIndex((c) => c.name === 'bucket') + 1;
  const grains = level.grains.map((grain) => {
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
    return `SELECT ${cols.join(', ')}\n    FROM base_${level.id} b${recent.includes(grain) ? ' WHERE b.recent' : ''}\n   GROUP BY ${groupBy.join(', ')}`;
  });
  return { base, grains };
}

/**
 * The aggregate of a fact selection in the view layout (every level, every grain). `fineFrom` is an
 * SQL expression: recent grains get rows only for facts at or after it.
 */
export function aggregateSql(spec: RollupSpec, sel: FactSelection, fineFrom: string): string {
  const parts = spec.levels.map((l) => levelSql(spec, l, fineFrom));
  const ctes = [`f AS ${sel.bulk ? 'NOT ' : ''}MATERIALIZED (\n${factsSql(spec, sel)}\n)`, ...spec.levels.map((l, i) => `base_${l.id} AS MATERIALIZED (\n  ${parts[i]!.base}\n)`)];
  return `WITH ${ctes.join(',\n')}\n${parts.flatMap((p) => p.grains).join('\nUNION ALL\n')}`;
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
