/** The gateway's writes as the maintenance tests need them: runs with jobs, status upserts, deletes. */
import type pg from 'pg';
import { TABLES } from '../../../src/db/tables.ts';

let counter = 0;

export interface RunSpec {
  readonly ts: number;
  readonly tenant?: string;
  readonly env?: string;
  readonly jobs?: number;
  /** Share of failed jobs is about 1/3 when true. */
  readonly failing?: boolean;
}

type Queryable = Pick<pg.ClientBase, 'query'>;

/** Inserts a run (and, unless `jobs` is 0, its jobs) in the caller's transaction; returns its event_id. */
export async function insertRun(db: Queryable, run: RunSpec, eventId = `ev-${process.pid}-${++counter}`): Promise<string> {
  await db.query(
    `INSERT INTO ${TABLES.runs} (event_id, job_ref, tenant_id, source_app, source_app_version, environment, timestamp_start, timestamp_end)
     VALUES ($1, 'ref', $2, 'app-late', '1', $3, $4::bigint, $4::bigint + 60000)`,
    [eventId, run.tenant ?? 'late-tenant', run.env ?? 'prod', run.ts],
  );
  if ((run.jobs ?? 3) > 0) await insertJobs(db, eventId, run.ts, run.jobs ?? 3, run.failing ?? true);
  return eventId;
}

export async function insertJobs(db: Queryable, eventId: string, ts: number, n: number, failing = true): Promise<void> {
  await db.query(
    `INSERT INTO ${TABLES.runsJobs} (event_id, country, catalog_id, status, timestamp_start, timestamp_end)
     SELECT $1, CASE WHEN i % 4 = 0 THEN NULL ELSE 'ZA' END, 'catalog-late-' || (i % 3),
            CASE WHEN $4::boolean AND i % 3 = 0 THEN 'Failed' ELSE 'succeeded' END, $2::bigint + i * 1000, $2::bigint + i * 1000 + 5000 * i
       FROM generate_series(1, $3::int) AS i`,
    [eventId, ts, n, failing],
  );
}

/** Upserts status rows as the gateway's writer does (INSERT ... ON CONFLICT (job_id) DO UPDATE). */
export async function upsertStatus(
  db: Queryable,
  rows: readonly { jobId: string; createdAt: number; status: string | null; tenant?: string | null; lastUpdated?: number }[],
): Promise<void> {
  for (const r of rows) {
    await db.query(
      `INSERT INTO ${TABLES.statusChange} (job_id, tenant_id, source_app, environment, country, status_type, created_at, last_updated_at)
       VALUES ($1, $2, 'app-late', 'prod', 'ZA', $3, to_timestamp($4 / 1000.0), to_timestamp($5 / 1000.0))
       ON CONFLICT (job_id) DO UPDATE
          SET status_type = EXCLUDED.status_type, tenant_id = coalesce(EXCLUDED.tenant_id, ${TABLES.statusChange}.tenant_id),
              last_updated_at = greatest(EXCLUDED.last_updated_at, ${TABLES.statusChange}.last_updated_at)`,
      [r.jobId, r.tenant ?? null, r.status, r.createdAt, r.lastUpdated ?? Date.now()],
    );
  }
}
