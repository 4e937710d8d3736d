import type { z } from 'zod';
import type { Access } from '../auth/acl.ts';
import type { TopicName, ViewName } from '../db/tables.ts';
import type { Dim, PartRow, PartsRequest, RollupSpec } from '../rollup/spec.ts';
import type { TimeWindow } from '../rollup/window.ts';

/** The answer's groups before finalising: every group, or the first `limit` of a ranking. */
export interface Page {
  readonly rows: readonly PartRow[];
  readonly truncated: boolean;
}

/** For answers that list the first `limit` groups in an order. */
export interface Ranking {
  /** Groups that belong in the answer at all (every group when absent). */
  readonly keep?: (row: PartRow) => boolean;
  readonly compare: (a: PartRow, b: PartRow) => number;
  readonly limit: number;
}

export interface OutputColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'string|null' | 'integer|null' | 'number|null';
  readonly description: string;
  /** An instant in epoch ms: a CSV answer adds its ISO-8601 twin column `<name>_iso`. */
  readonly epochMs?: true;
}

/** A view the worker maintains: its name, its query's declaration, and its default schedule. */
export interface ViewRefresh {
  readonly name: ViewName;
  readonly spec: RollupSpec;
  readonly cron: string;
}

export interface BuildContext<P> {
  readonly params: P;
  readonly window: TimeWindow;
  readonly access: Access;
}

/** The answer's rows; truncated when groups beyond the requested limit were cut. */
export interface Finalized {
  readonly rows: Record<string, unknown>[];
  readonly truncated: boolean;
}

/** What a request reads (its parts) and how the merged partial aggregates become its answer. */
export interface QueryPlan {
  readonly parts: PartsRequest;
  /** For answers listing the first groups in an order: only those reach finalize. */
  readonly rank?: Ranking;
  /** Must not mutate the rows it is given: they may be shared with the parts cache. */
  finalize(page: Page): Finalized;
  /**
   * Present when finalize makes each answer row from one merged row alone, in order (its rows are
   * `page.rows.map(row)`, its `truncated` the page's; the answer may skip finalize): `key` names the row function (whatever parameters shape a row), so an
   * answer may reuse a row's JSON text while the merged row is the same object (src/http/row-texts.ts).
   */
  readonly rowwise?: RowWise;
}

/** An answer row made from one merged row: `row` is pure, and `key` says which row function it is. */
export interface RowWise {
  readonly key: string;
  row(r: PartRow): Record<string, unknown>;
}

/** One compiled query: everything the registry, the endpoint, the catalog and refresh need to know. */
export interface CompiledQuery<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly topic: TopicName;
  readonly description: string;
  readonly params: S;
  /** Filterable dimensions: constrained users' values are checked against their ACL patterns. */
  readonly filters: readonly Dim[];
  /** The default schedule of its maintenance cycle (DEFAULT_CRON when absent). */
  readonly cron?: string;
  readonly columns: readonly OutputColumn[];
  readonly rollup: RollupSpec;
  plan(ctx: BuildContext<z.output<S>>): QueryPlan;
}
