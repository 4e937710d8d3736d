/**
 * Statements timed straight through `pg`, without HTTP: EXPLAIN (ANALYZE, BUFFERS) of a compiled
 * query's statement (what the server spends, and whether it reads from disk), and wall-clock runs
 * of any statement (the compiled one and its on-the-fly equivalent).
 */
import type pg from 'pg';
import type { SqlQuery } from '../src/db/sql.ts';
import { median, round, summarize, type Summary } from './stats.ts';

export interface PlanFacts {
  /** Medians over the runs. */
  readonly planningMs: number;
  readonly executionMs: number;
  /** Buffers of the last run: hits are pages found in shared buffers, reads came from the OS. */
  readonly sharedHit: number;
  readonly sharedRead: number;
}

interface JsonPlan {
  readonly 'Planning Time': number;
  readonly 'Execution Time': number;
  readonly Plan: { readonly 'Shared Hit Blocks'?: number; readonly 'Shared Read Blocks'?: number };
}

export async function explainAnalyze(pool: pg.Pool, sql: SqlQuery, runs: number): Promise<PlanFacts> {
  const planning: number[] = [];
  const execution: number[] = [];
  let last: JsonPlan | undefined;
  for (let i = 0; i < runs; i++) {
    const res = await pool.query<{ 'QUERY PLAN': JsonPlan[] }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql.text}`, sql.values as unknown[]);
    last = res.rows[0]!['QUERY PLAN'][0]!;
    planning.push(last['Planning Time']);
    execution.push(last['Execution Time']);
  }
  return {
    planningMs: round(median(planning)),
    executionMs: round(median(execution)),
    sharedHit: last?.Plan['Shared Hit Blocks'] ?? 0,
    sharedRead: last?.Plan['Shared Read Blocks'] ?? 0,
  };
}

/** The human-readable plan, kept in the results for the slowest query. */
export async function explainText(pool: pg.Pool, sql: SqlQuery): Promise<string> {
  const res = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql.text}`, sql.values as unknown[]);
  return res.rows.map((r) => r['QUERY PLAN']).join('\n');
}

/**
 * Wall time of `runs` sequential executions after one untimed run (which warms the session's catalog
 * caches and the buffer cache, as the load stage's warm-up does for the API); returns the rows too.
 */
export async function timeStatement(pool: pg.Pool, sql: SqlQuery, runs: number): Promise<{ ms: Summary; rows: Record<string, unknown>[] }> {
  const times: number[] = [];
  let rows = (await pool.query<Record<string, unknown>>(sql.text, sql.values as unknown[])).rows;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const res = await pool.query<Record<string, unknown>>(sql.text, sql.values as unknown[]);
    times.push(performance.now() - t);
    rows = res.rows;
  }
  return { ms: summarize(times), rows };
}
