/**
 * Stage 5, the path compiled queries replace: page through the raw rows of the same window
 * (POST /stats/{topic}, 1,000 rows a page by default, cursor paging) and count failed jobs per tenant and
 * pipeline in the client. Past --raw-pages pages the rest is extrapolated from the window's row
 * count, and the result says so.
 */
import type pg from 'pg';
import { TABLES } from '../src/db/tables.ts';
import type { TimeWindow } from '../src/rollup/window.ts';
import { request } from './api.ts';
import { round } from './stats.ts';

export const RAW_TOPIC = 'public.cps.za.runs';

export interface RawResult {
  readonly path: string;
  readonly pageLimit: number;
  readonly pagesFetched: number;
  readonly rowsFetched: number;
  readonly fetchedMs: number;
  readonly fetchedBytes: number;
  /** Jobs in the window (SELECT count(*)), i.e. the rows a full paging returns. */
  readonly windowRows: number;
  readonly totalPages: number;
  /** True when only the first pages were fetched and the totals below are extrapolated. */
  readonly extrapolated: boolean;
  readonly totalMs: number;
  readonly totalBytes: number;
  /** Client-side aggregation over the fetched rows. */
  readonly failedJobs: number;
  readonly groups: number;
  /** Every group the compiled failed_jobs answer lists has the same counts here (null when sampled). */
  readonly agreesWithCompiled: boolean | null;
}

interface RawRow {
  readonly tenant_id: string;
  readonly source_app: string;
  readonly status: string;
}

interface RawPage {
  readonly success?: boolean;
  readonly data?: RawRow[];
  readonly pagination?: { readonly cursor: number | null; readonly has_more: boolean };
}

export interface CompiledGroup {
  readonly tenant_id?: unknown;
  readonly source_app?: unknown;
  readonly failed_count?: unknown;
  readonly job_count?: unknown;
}

export async function benchRaw(ctx: {
  baseUrl: string;
  authorization: string;
  pool: pg.Pool;
  window: TimeWindow;
  maxPages: number;
  pageLimit: number;
  /** The compiled failed_jobs rows (default grouping: tenant_id, source_app) to check against. */
  compiled: readonly CompiledGroup[];
}): Promise<RawResult> {
  const { baseUrl, authorization, pool, window, maxPages, pageLimit } = ctx;
  const path = `/stats/${RAW_TOPIC}`;
  const groups = new Map<string, { failed: number; jobs: number }>();
  let failedJobs = 0;
  let pages = 0;
  let rows = 0;
  let bytes = 0;
  let cursor: number | null = null;
  let complete = false;
  const t0 = performance.now();
  while (pages < maxPages) {
    const answer = await request(`${baseUrl}${path}`, authorization, {
      timestamp_start: window.start,
      timestamp_end: window.end,
      limit: pageLimit,
      ...(cursor === null ? {} : { cursor }),
    });
    const page = answer.json as RawPage;
    if (answer.status !== 200 || page.success !== true || !Array.isArray(page.data) || !page.pagination) {
      throw new Error(`${path} answered ${answer.status}: ${JSON.stringify(answer.json).slice(0, 500)}`);
    }
    pages++;
    bytes += answer.bytes;
    rows += page.data.length;
    for (const r of page.data) {
      const key = `${r.tenant_id}\u0000${r.source_app}`;
      const g = groups.get(key) ?? { failed: 0, jobs: 0 };
      g.jobs++;
      if (r.status.toLowerCase() === 'failed') {
        g.failed++;
        failedJobs++;
      }
      groups.set(key, g);
    }
    if (!page.pagination.has_more) {
      complete = true;
      break;
    }
    cursor = page.pagination.cursor;
  }
  const fetchedMs = performance.now() - t0;

  const { rows: counted } = await pool.query<{ n: number }>(
    `SELECT count(*)::float8 AS n FROM ${TABLES.runs} r JOIN ${TABLES.runsJobs} j ON j.event_id = r.event_id
      WHERE r.timestamp_start >= $1 AND r.timestamp_start <= $2`,
    [window.start, window.end],
  );
  const windowRows = counted[0]!.n;
  const totalPages = Math.max(1, Math.ceil(windowRows / pageLimit));

  let agreesWithCompiled: boolean | null = null;
  if (complete) {
    agreesWithCompiled = ctx.compiled.every((c) => {
      const g = groups.get(`${String(c.tenant_id)}\u0000${String(c.source_app)}`);
      return g !== undefined && g.failed === c.failed_count && g.jobs === c.job_count;
    });
  }
  return {
    path,
    pageLimit,
    pagesFetched: pages,
    rowsFetched: rows,
    fetchedMs: round(fetchedMs),
    fetchedBytes: bytes,
    windowRows,
    totalPages,
    extrapolated: !complete,
    totalMs: round(complete ? fetchedMs : (fetchedMs / pages) * totalPages),
    totalBytes: complete ? bytes : Math.round((bytes / Math.max(1, rows)) * windowRows),
    failedJobs,
    groups: groups.size,
    agreesWithCompiled,
  };
}
