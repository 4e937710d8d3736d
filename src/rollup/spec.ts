/**
 * The shared engine of the compiled queries. Each materialized view stores one or more *levels*
 * (a set of dimensions) at one or more *grains* (day, hour, minute); a level may keep its finest
 * grains only for recent facts (its *recent tier*, from a day-aligned cutoff the view itself
 * shows). A read picks the smallest level that holds every dimension it groups or filters by, takes
 * whole buckets from the view and the partial edges from the base tables, so the answer is exact
 * to the millisecond.
 *
 * This module writes the SQL of the parts; src/read/parts.ts reads, caches and merges them.
 * Every part is a partial aggregate per group (and per output time bucket): measures declare how
 * partials combine (sum, min, max), so parts from different sources merge into the same answer.
 *
 * View layout (every view): lvl, grain_ms, bucket (epoch ms), null_mask, the dimensions (NOT NULL,
 * '' where null_mask marks them NULL), then the measures. The unique index the concurrent refresh
 * needs is on (lvl, grain_ms, bucket, null_mask, dims...): all NOT NULL, so unchanged rows match in
 * the refresh diff instead of being rewritten every time.
 */
import type { Access } from '../auth/acl.ts';
import { scopeCondition } from '../auth/scope.ts';
import type { Params } from '../db/sql.ts';
import { TABLES, type ViewName } from '../db/tables.ts';
import { floorExpr, relationsOf } from './layout.ts';
import { GRAIN_MS, HOUR_MS, planWindow, type Grain, type GrainCover, type Range, type TimeWindow } from './window.ts';

export type Dim = 'tenant_id' | 'source_app' | 'environment' | 'catalog_id' | 'country' | 'status_type';

export interface Level {
  /** The view's lvl value for this level. */
  readonly id: number;
  readonly dims: readonly Dim[];
  /** Coarse to fine. */
  readonly grains: readonly Grain[];
  /** Grains of `grains` kept only for recent facts (the view's recent tier). */
  readonly recent?: readonly Grain[];
}

/** How a fact table changes, and so how its history is maintained (src/maintenance/sources.ts). */
export type SourceName = 'runs' | 'status_change';

export interface FactSource {
  readonly source: SourceName;
  /** FROM clause over the base tables (fixed aliases). */
  readonly from: string;
  /** Epoch-ms time of a fact (bigint expression). */
  readonly ts: string;
  /** The condition "fact time in [from, to)"; values go through p. */
  timeIn(p: Params, r: Range): string;
  readonly dims: Readonly<Partial<Record<Dim, string>>>;
}

/** How two partial values of a measure combine. */
export type Combine = 'sum' | 'min' | 'max';

export interface Measure {
  /** Its value in a view row. */
  readonly view: string;
  /** Its value for one raw fact row. */
  readonly raw: string;
  readonly combine: Combine;
  /** Its column type in the view and the history table (default bigint). */
  readonly type?: 'bigint' | 'numeric';
}

export interface RollupSpec {
  /** Its materialized view (recent buckets); the history table and the union reads take are named after it (src/rollup/layout.ts). */
  readonly view: ViewName;
  /** Dimension columns of the view; bit i of null_mask marks dims[i] as NULL. */
  readonly dims: readonly Dim[];
  readonly levels: readonly Level[];
  readonly facts: FactSource;
  readonly measures: Readonly<Record<string, Measure>>;
}

export interface PartsRequest {
  readonly window: TimeWindow;
  readonly filters: Readonly<Partial<Record<Dim, readonly string[]>>>;
  readonly groupDims: readonly Dim[];
  readonly access: Access;
  /** Output time buckets (a column `t`, epoch ms): grains coarser than this cannot be used. */
  readonly bucketGrain?: Grain;
}

/** A partial aggregate: the group dims, `t` when the request has output buckets, the measures. */
export type PartRow = Record<string, string | number | null>;

/** Where each (recent-tier) level's fine grains start, by level id; absent: not available. */
export type Coverage = ReadonlyMap<number, number>;

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

export function chooseLevel(spec: RollupSpec, needed: readonly Dim[]): Level | undefined {
  return spec.levels.find((l) => needed.every((d) => l.dims.includes(d)));
}

export function planParts(spec: RollupSpec, req: PartsRequest, coverage: Coverage): PartsPlan {
  const filtered = Object.keys(req.filters) as Dim[];
  // Row scoping filters by the fields a user's constraints name, so those must be in the level too.
  const constrained = req.access.kind === 'constrained' ? (Object.keys(req.access.constraints) as Dim[]) : [];
  const level = chooseLevel(spec, [...new Set([...req.groupDims, ...filtered, ...constrained])]);
  const maxMs = req.bucketGrain ? GRAIN_MS[req.bucketGrain] : Infinity;
  const grains: GrainCover[] = [];
  for (const grain of level?.grains ?? []) {
    if (GRAIN_MS[grain] > maxMs) continue;
    if (!level?.recent?.includes(grain)) grains.push({ grain });
    else if (coverage.has(level.id)) grains.push({ grain, from: coverage.get(level.id)! });
    // A recent grain whose tier is empty is left out.
  }
  const plan = planWindow(req.window, grains);
  return { level, segments: level ? plan.buckets : [], raw: level ? plan.raw : [{ from: req.window.start, to: req.window.end + 1 }] };
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

/** Every level with a recent tier has it from fine_from on (the maintenance row; src/maintenance/cycle.ts). */
export function coverageOf(spec: RollupSpec, fineFrom: number | null): Coverage {
  const out = new Map<number, number>();
  if (fineFrom === null) return out;
  for (const l of spec.levels) if (l.recent?.length) out.set(l.id, fineFrom);
  return out;
}

function viewDim(spec: RollupSpec, dim: Dim): string {
  const bit = spec.dims.indexOf(dim);
  if (bit < 0) throw new Error(`dimension ${dim} is not stored in ${spec.view}`);
  return `CASE WHEN v.null_mask & ${1 << bit} = 0 THEN v.${dim} END`;
}

export function rawDim(spec: RollupSpec, dim: Dim): string {
  const expr = spec.facts.dims[dim];
  if (!expr) throw new Error(`dimension ${dim} has no fact expression`);
  return expr;
}

export function conditions(req: PartsRequest, p: Params, col: (d: Dim) => string, stores: (d: Dim) => boolean): string[] {
  const out: string[] = [];
  for (const [dim, values] of Object.entries(req.filters) as [Dim, readonly string[]][]) {
    out.push(`${col(dim)} = ANY(${p.add(values)}::text[])`);
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

function select(req: PartsRequest, spec: RollupSpec, tag: number, dim: (d: Dim) => string, time: string, measure: (m: Measure) => string) {
  const keys = partKeys(req, dim, time);
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
    ...conditions(req, p, (d) => viewDim(spec, d), (d) => spec.dims.includes(d)),
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

/** The jobs of the runs topic: a job is in the window when its run's timestamp_start is. */
export const RUN_JOB_FACTS: FactSource = {
  source: 'runs',
  // The runs of a window edge are few; without the OFFSET 0 fence the planner may hash-join them
  // against a sequential scan of every job instead of probing the jobs' event_id index per run.
  from: `${TABLES.runs} r CROSS JOIN LATERAL (SELECT * FROM ${TABLES.runsJobs} j0 WHERE j0.event_id = r.event_id OFFSET 0) j`,
  ts: 'r.timestamp_start',
  timeIn: (p, r) => `(r.timestamp_start >= ${p.add(r.from)} AND r.timestamp_start < ${p.add(r.to)})`,
  dims: {
    tenant_id: 'r.tenant_id',
    source_app: 'r.source_app',
    environment: 'r.environment',
    catalog_id: 'j.catalog_id',
    country: 'j.country',
  },
};

/**
 * Epoch ms as a timestamp PostgreSQL reads. A window may end at 9999-12-31T23:59:59.999, so its
 * half-open end is in year 10000, which toISOString() writes with a sign ('+010000-...') that
 * PostgreSQL refuses.
 */
function pgTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/^\+0*/, '');
}

/** Rows of the status-change table: in the window when created_at is (compared at ms precision). */
export const STATUS_CHANGE_FACTS: FactSource = {
  source: 'status_change',
  from: `${TABLES.statusChange} s`,
  ts: 'floor(extract(epoch FROM s.created_at) * 1000)::bigint',
  timeIn: (p, r) => `(s.created_at >= ${p.add(pgTimestamp(r.from))}::timestamptz AND s.created_at < ${p.add(pgTimestamp(r.to))}::timestamptz)`,
  dims: {
    tenant_id: 's.tenant_id',
    source_app: 's.source_app',
    environment: 's.environment',
    country: 's.country',
    status_type: 's.status_type',
  },
};
