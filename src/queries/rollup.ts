/**
 * The shared engine of the compiled queries. Each materialized view stores one or more *levels*
 * (a set of dimensions) at one or more *grains* (day, hour). A read picks the smallest level that
 * holds every dimension it groups or filters by, takes whole buckets from the view and the partial
 * edges from the base tables, all in one statement, so the answer is exact to the millisecond.
 *
 * View layout (every view): lvl, grain_ms, bucket (epoch ms), null_mask, the dimensions (NOT NULL,
 * '' where null_mask marks them NULL), then the measures. The unique index the concurrent refresh
 * needs is on (lvl, grain_ms, bucket, null_mask, dims...): all NOT NULL, so unchanged rows match in
 * the refresh diff instead of being rewritten every time.
 */
import type { Access } from '../auth/acl.ts';
import { scopeCondition } from '../auth/scope.ts';
import type { Params } from '../db/sql.ts';
import { TABLES } from '../db/tables.ts';
import { GRAIN_MS, planWindow, type Grain, type Range, type TimeWindow } from './window.ts';

export type Dim = 'tenant_id' | 'source_app' | 'environment' | 'catalog_id' | 'country' | 'status_type';

export interface Level {
  /** The view's lvl value for this level. */
  readonly id: number;
  readonly dims: readonly Dim[];
  /** Coarse to fine. */
  readonly grains: readonly Grain[];
}

export interface FactSource {
  /** FROM clause over the base tables (fixed aliases). */
  readonly from: string;
  /** Epoch-ms time of a fact (bigint expression). */
  readonly ts: string;
  /** The condition "fact time in [from, to)"; values go through p. */
  timeIn(p: Params, r: Range): string;
  readonly dims: Readonly<Partial<Record<Dim, string>>>;
}

export interface RollupSpec {
  readonly view: string;
  /** Dimension columns of the view; bit i of null_mask marks dims[i] as NULL. */
  readonly dims: readonly Dim[];
  readonly levels: readonly Level[];
  readonly facts: FactSource;
  /** Per measure: its contribution from a view row and from a raw fact row. */
  readonly measures: Readonly<Record<string, { readonly view: string; readonly raw: string }>>;
}

export interface PartsRequest {
  readonly window: TimeWindow;
  readonly filters: Readonly<Partial<Record<Dim, readonly string[]>>>;
  readonly groupDims: readonly Dim[];
  readonly access: Access;
  /** Finest output bucket: grains coarser than this cannot be used (a day row cannot be split into hours). */
  readonly maxGrain?: Grain;
}

export interface Parts {
  /** SELECT ... UNION ALL ... with columns: the group dims, the measures, t (epoch ms of the row's bucket or fact). */
  readonly sql: string;
  readonly level: Level | undefined;
}

export function chooseLevel(spec: RollupSpec, needed: readonly Dim[]): Level | undefined {
  return spec.levels.find((l) => needed.every((d) => l.dims.includes(d)));
}

function viewDim(spec: RollupSpec, dim: Dim): string {
  const bit = spec.dims.indexOf(dim);
  if (bit < 0) throw new Error(`dimension ${dim} is not stored in ${spec.view}`);
  return `CASE WHEN v.null_mask & ${1 << bit} = 0 THEN v.${dim} END`;
}

function rawDim(spec: RollupSpec, dim: Dim): string {
  const expr = spec.facts.dims[dim];
  if (!expr) throw new Error(`dimension ${dim} has no fact expression`);
  return expr;
}

function conditions(req: PartsRequest, p: Params, col: (d: Dim) => string, stores: (d: Dim) => boolean): string[] {
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

export function buildParts(spec: RollupSpec, req: PartsRequest, p: Params): Parts {
  const filtered = Object.keys(req.filters) as Dim[];
  // Row scoping filters by the fields a user's constraints name, so those must be in the level too.
  const constrained = req.access.kind === 'constrained' ? (Object.keys(req.access.constraints) as Dim[]) : [];
  const level = chooseLevel(spec, [...new Set([...req.groupDims, ...filtered, ...constrained])]);
  const maxMs = req.maxGrain ? GRAIN_MS[req.maxGrain] : Infinity;
  const grains = (level?.grains ?? []).filter((g) => GRAIN_MS[g] <= maxMs);
  const plan = planWindow(req.window, grains);
  const measures = Object.entries(spec.measures);
  const selects: string[] = [];

  if (level && plan.buckets.length) {
    const cols = [...req.groupDims.map((d) => `${viewDim(spec, d)} AS ${d}`), ...measures.map(([m, e]) => `${e.view} AS ${m}`), 'v.bucket AS t'];
    const ranges = plan.buckets.map(
      (b) => `(v.grain_ms = ${GRAIN_MS[b.grain]} AND v.bucket >= ${p.add(b.range.from)} AND v.bucket < ${p.add(b.range.to)})`,
    );
    const where = [`v.lvl = ${level.id}`, `(${ranges.join(' OR ')})`, ...conditions(req, p, (d) => viewDim(spec, d), (d) => spec.dims.includes(d))];
    selects.push(`SELECT ${cols.join(', ')}\n  FROM ${spec.view} v\n WHERE ${where.join('\n   AND ')}`);
  }
  if (plan.raw.length) {
    const cols = [...req.groupDims.map((d) => `${rawDim(spec, d)} AS ${d}`), ...measures.map(([m, e]) => `${e.raw} AS ${m}`), `${spec.facts.ts} AS t`];
    const ranges = plan.raw.map((r) => spec.facts.timeIn(p, r));
    const where = [`(${ranges.join(' OR ')})`, ...conditions(req, p, (d) => rawDim(spec, d), (d) => d in spec.facts.dims)];
    selects.push(`SELECT ${cols.join(', ')}\n  FROM ${spec.facts.from}\n WHERE ${where.join('\n   AND ')}`);
  }
  return { sql: selects.join('\nUNION ALL\n'), level };
}

/** The jobs of the runs topic: a job is in the window when its run's timestamp_start is. */
export const RUN_JOB_FACTS: FactSource = {
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

/** Rows of the status-change table: in the window when created_at is (compared at ms precision). */
export const STATUS_CHANGE_FACTS: FactSource = {
  from: `${TABLES.statusChange} s`,
  ts: 'floor(extract(epoch FROM s.created_at) * 1000)::bigint',
  timeIn: (p, r) =>
    `(s.created_at >= ${p.add(new Date(r.from).toISOString())}::timestamptz AND s.created_at < ${p.add(new Date(r.to).toISOString())}::timestamptz)`,
  dims: {
    tenant_id: 's.tenant_id',
    source_app: 's.source_app',
    environment: 's.environment',
    country: 's.country',
    status_type: 's.status_type',
  },
};
