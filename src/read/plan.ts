/**
 * A read's plan and its SQL: which level answers a request (of those holding every dimension it
 * groups or filters by, the one with the fewest estimated rows), which whole buckets come from the
 * view as segments and which raw edges from the base tables, and the statement text of each part
 * with its values as parameters. The model they
 * read (spec types, grains, layout) is src/rollup/; src/read/parts.ts reads, caches and merges them.
 */
import { LRUCache } from 'lru-cache';
import { scopeCondition } from '../auth/scope.ts';
import type { Params } from '../db/sql.ts';
import { floorExpr, relationsOf } from '../rollup/layout.ts';
import { rawDim, type Coverage, type Dim, type Level, type Measure, type PartsRequest, type RollupSpec } from '../rollup/spec.ts';
import { DAY_MS, GRAIN_MS, HOUR_MS, planWindow, type Grain, type GrainCover, type Range, type WindowPlan } from '../rollup/window.ts';

export interface Segment {
  readonly grain: Grain;
  readonly range: Range;
}

/** What a read takes from where: whole-bucket segments of one level, raw ranges of the base tables. */
export interface PartsPlan {
  readonly level: Level | undefined;
  readonly segments: readonly Segment[];
  readonly raw: readonly Range[];
}

/**
 * What a view's levels hold, sampled once per version (src/read/view-state.ts): rows per day of each
 * (level, grain), and facts per day, over one whole recent day. Only the router reads them: any
 * covering level gives the same exact answer, the estimate only chooses the cheapest.
 */
export interface LevelSizes {
  /** Rows per day by level id and grain (a grain's rows over all its buckets of the sampled day). */
  readonly rows: ReadonlyMap<number, ReadonlyMap<Grain, number>>;
  readonly factsPerDay: number;
}

/** The levels holding every needed dimension, in declaration order. */
export function coveringLevels(spec: RollupSpec, needed: readonly Dim[]): Level[] {
  return spec.levels.filter((l) => needed.every((d) => l.dims.includes(d)));
}

/** The first level holding every needed dimension (what the router falls back to without sizes). */
export function chooseLevel(spec: RollupSpec, needed: readonly Dim[]): Level | undefined {
  return coveringLevels(spec, needed)[0];
}

/** The dimensions a request needs a level to hold: grouped, filtered, and a constrained user's fields. */
export function neededDims(req: PartsRequest): Dim[] {
  const filtered = Object.keys(req.filters) as Dim[];
  // Row scoping filters by the fields a user's constraints name, so those must be in the level too.
  const constrained = req.access.kind === 'constrained' ? (Object.keys(req.access.constraints) as Dim[]) : [];
  return [...new Set([...req.groupDims, ...filtered, ...constrained])];
}

function planOn(level: Level, req: PartsRequest, coverage: Coverage): WindowPlan {
  const maxMs = req.bucketGrain ? GRAIN_MS[req.bucketGrain] : Infinity;
  const grains: GrainCover[] = [];
  for (const grain of level.grains) {
    if (GRAIN_MS[grain] > maxMs) continue;
    if (!level.recent?.includes(grain)) grains.push({ grain });
    else if (coverage.has(level.id)) grains.push({ grain, from: coverage.get(level.id)! });
    // A recent grain whose tier is empty is left out.
  }
  return planWindow(req.window, grains);
}

/** Estimated rows a plan on `level` reads: its segments' rows plus the raw edges' facts (a level or grain not sampled: unknown, never preferred). */
export function estimateRows(level: Level, plan: WindowPlan, sizes: LevelSizes): number {
  const rows = sizes.rows.get(level.id);
  let n = 0;
  for (const s of plan.buckets) n += ((rows?.get(s.grain) ?? Infinity) * (s.range.to - s.range.from)) / DAY_MS;
  for (const r of plan.raw) n += (sizes.factsPerDay * (r.to - r.from)) / DAY_MS;
  return n;
}

/**
 * The plan of a read: among the levels holding every needed dimension, the one with the fewest
 * estimated rows for this window (ties, and reads without sizes: declaration order, smallest
 * first), like ClickHouse's projections choose; none holding them: the base tables, whole.
 */
export function planParts(spec: RollupSpec, req: PartsRequest, coverage: Coverage, sizes?: LevelSizes): PartsPlan {
  const candidates = coveringLevels(spec, neededDims(req));
  let best: { level: Level; plan: WindowPlan; rows: number } | undefined;
  for (const level of sizes ? candidates : candidates.slice(0, 1)) {
    const plan = planOn(level, req, coverage);
    const rows = sizes ? estimateRows(level, plan, sizes) : 0;
    if (!best || rows < best.rows) best = { level, plan, rows };
  }
  if (!best) return { level: undefined, segments: [], raw: [{ from: req.window.start, to: req.window.end + 1 }] };
  return { level: best.level, segments: best.plan.buckets, raw: best.plan.raw };
}

/** Fixed windows' plans kept per view state (its coverage and sizes), per spec: at most this many each. */
const PLANS_KEPT = 256;
const NO_SIZES: LevelSizes = Object.freeze({ rows: new Map(), factsPerDay: 0 });
const PLANS = new WeakMap<RollupSpec, WeakMap<Coverage, WeakMap<LevelSizes, LRUCache<string, PartsPlan>>>>();

/**
 * planParts, kept for a fixed window: a dashboard polls the same window, and its plan depends only
 * on the spec, the dimensions needed, the output grain, the window and the view state (`coverage`
 * and `sizes` are made anew with each version read, so a plan goes with the state it was made
 * under). A window relative to now is new on every request and planned each time.
 */
export function plannedParts(spec: RollupSpec, req: PartsRequest, coverage: Coverage, sizes?: LevelSizes): PartsPlan {
  if (req.window.relative) return planParts(spec, req, coverage, sizes);
  let bySpec = PLANS.get(spec);
  if (!bySpec) PLANS.set(spec, (bySpec = new WeakMap()));
  let byCoverage = bySpec.get(coverage);
  if (!byCoverage) bySpec.set(coverage, (byCoverage = new WeakMap()));
  let plans = byCoverage.get(sizes ?? NO_SIZES);
  if (!plans) byCoverage.set(sizes ?? NO_SIZES, (plans = new LRUCache({ max: PLANS_KEPT })));
  const key = `${neededDims(req).sort().join(',')}|${req.bucketGrain ?? ''}|${req.window.start}|${req.window.end}`;
  let plan = plans.get(key);
  if (!plan) plans.set(key, (plan = planParts(spec, req, coverage, sizes)));
  return plan;
}

/** A raw range this long or longer is more than a window's edge: admission control counts its read. */
export const BEYOND_EDGES_MS = HOUR_MS;

/**
 * Whether a plan reads the base tables beyond the window's edges, what admission control counts
 * (src/core/admission.ts): some raw range spans an hour or more. With a minute grain the edges are under a
 * minute, with an hour grain under an hour; what is longer is a window no level covers (read raw
 * whole), or the day edges of a level whose finer grains exist only for recent facts. The real-time
 * tail is not part of the plan.
 */
export function readsBeyondEdges(plan: PartsPlan): boolean {
  return plan.raw.some((r) => r.to - r.from >= BEYOND_EDGES_MS);
}

/** The test that a view row holds a value of `dim` (its null_mask bit clear). */
function holdsValue(spec: RollupSpec, dim: Dim): string {
  const bit = spec.dims.indexOf(dim);
  if (bit < 0) throw new Error(`dimension ${dim} is not stored in ${spec.view}`);
  return `v.null_mask & ${1 << bit} = 0`;
}

function viewDim(spec: RollupSpec, dim: Dim): string {
  return `CASE WHEN ${holdsValue(spec, dim)} THEN v.${dim} END`;
}

/**
 * A filtered dimension of a view row, as a filter compares it: the column itself, with its
 * null_mask bit clear (a NULL dimension is stored as '' and matches no value). The same rows as
 * viewDim's CASE, but an index on the column (Level.indexes) can serve it.
 */
function filterDim(spec: RollupSpec, dim: Dim): string {
  return `${holdsValue(spec, dim)} AND v.${dim}`;
}

export function conditions(req: PartsRequest, p: Params, col: (d: Dim) => string, stores: (d: Dim) => boolean, filterCol: (d: Dim) => string = col): string[] {
  const out: string[] = [];
  for (const [dim, values] of Object.entries(req.filters) as [Dim, readonly string[]][]) {
    out.push(`${filterCol(dim)} = ANY(${p.add(values)}::text[])`);
  }
  // The level holds every constrained field; a field it lacks is never referenced, and would read
  // as NULL (matching nothing) if it were: scoping fails closed.
  const scoped = (d: Dim) => (stores(d) ? col(d) : 'NULL');
  const scope = scopeCondition(req.access, { tenant_id: scoped('tenant_id'), source_app: scoped('source_app'), environment: scoped('environment') }, p);
  if (scope !== 'TRUE') out.push(scope);
  return out;
}

/** Partials are float8 (exact for integers below 2^53), so every part has the same column types. */
export const partial = (m: Measure, expr: string) => `${m.combine}(${expr})::float8`;

/** The group keys of a part: the group dims as text, then `t` (the output bucket of `time`) when the request has one. */
export function partKeys(req: PartsRequest, dim: (d: Dim) => string, time: string): string[] {
  const b = req.bucketGrain ? GRAIN_MS[req.bucketGrain] : undefined;
  return [...req.groupDims.map((d) => `${dim(d)}::text AS ${d}`), ...(b ? [`${floorExpr(time, b)} AS t`] : [])];
}

function select(req: PartsRequest, spec: RollupSpec, tag: number, dim: (d: Dim) => string, time: string, measure: (m: Measure) => string, extraKeys: readonly string[] = []) {
  const keys = [...partKeys(req, dim, time), ...extraKeys];
  const cols = [`${tag} AS part`, ...keys, ...Object.entries(spec.measures).map(([name, m]) => `${partial(m, measure(m))} AS ${name}`)];
  const groupBy = keys.length ? `\n GROUP BY ${keys.map((_, i) => i + 2).join(', ')}` : '';
  return { cols: cols.join(', '), groupBy };
}

/** One whole-bucket segment of the view, aggregated per group; its rows carry `part = tag`. */
export function segmentSql(spec: RollupSpec, level: Level, seg: Segment, req: PartsRequest, p: Params, tag: number): string {
  const { cols, groupBy } = select(req, spec, tag, (d) => viewDim(spec, d), 'v.bucket', (m) => m.view);
  const where = [
    `v.lvl = ${level.id}`,
    `v.grain_ms = ${GRAIN_MS[seg.grain]}`,
    `v.bucket >= ${p.add(seg.range.from)}`,
    `v.bucket < ${p.add(seg.range.to)}`,
    ...conditions(req, p, (d) => viewDim(spec, d), (d) => spec.dims.includes(d), (d) => filterDim(spec, d)),
  ];
  return `SELECT ${cols}\n  FROM ${relationsOf(spec).buckets} v\n WHERE ${where.join('\n   AND ')}${groupBy}`;
}

/** The raw edges from the base tables, aggregated per group; its rows carry `part = tag`. */
export function rawSql(spec: RollupSpec, ranges: readonly Range[], req: PartsRequest, p: Params, tag: number): string {
  const { cols, groupBy } = select(req, spec, tag, (d) => rawDim(spec, d), spec.facts.ts, (m) => m.raw);
  const where = [
    `(${ranges.map((r) => spec.facts.timeIn(p, r)).join(' OR ')})`,
    ...conditions(req, p, (d) => rawDim(spec, d), (d) => d in spec.facts.dims),
  ];
  return `SELECT ${cols}\n  FROM ${spec.facts.from}\n WHERE ${where.join('\n   AND ')}${groupBy}`;
}

/** The column of an edge bucket's rows holding their facts' time (epoch ms): src/read/edges.ts. */
export const EDGE_TS = 'edge_ts';

/**
 * Edge buckets from the base tables, aggregated per group and fact time (so that any edge within a
 * bucket is a range of its rows); the rows of `buckets[i]` carry `part = i`.
 */
export function edgeSql(spec: RollupSpec, buckets: readonly Range[], req: PartsRequest, p: Params): string {
  const conds = (r: Range) => [spec.facts.timeIn(p, r), ...conditions(req, p, (d) => rawDim(spec, d), (d) => d in spec.facts.dims)];
  return buckets
    .map((r, i) => {
      const { cols, groupBy } = select(req, spec, i, (d) => rawDim(spec, d), spec.facts.ts, (m) => m.raw, [`(${spec.facts.ts})::float8 AS ${EDGE_TS}`]);
      return `SELECT ${cols}\n  FROM ${spec.facts.from}\n WHERE ${conds(r).join('\n   AND ')}${groupBy}`;
    })
    .join('\nUNION ALL\n');
}
