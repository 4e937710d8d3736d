/**
 * Stages 3 and 4 for every registered compiled query: a typical dashboard request (the last 7 days
 * with unaligned millisecond bounds, default grouping) under load at 1 and N connections, its
 * statement timed and explained without HTTP, and the same answer computed on the fly over the base
 * tables — timed, and compared row by row with what the API returned.
 */
import type pg from 'pg';
import type { SqlQuery } from '../src/db/sql.ts';
import { createExecutor } from '../src/db/executor.ts';
import { prepareQuery } from '../src/read/execute.ts';
import { partsStatements } from '../src/read/parts-statement.ts';
import type { CompiledQuery } from '../src/declarations/types.ts';
import type { TimeWindow } from '../src/rollup/window.ts';
import { request } from './api.ts';
import { explainAnalyze, explainText, timeStatement, type PlanFacts } from './explain.ts';
import { measureLoad, type LoadResult, type LoadTarget } from './load.ts';
import { firstDifference, onTheFly, type AppliedParams } from './on-the-fly.ts';
import { ratio, type Summary } from './stats.ts';

const DAY_MS = 86_400_000;

export interface LoadSettings {
  readonly durationS: number;
  readonly warmupS: number;
  readonly connections: number;
  /** Sequential runs of the statements timed without HTTP. */
  readonly flyRuns: number;
}

export interface CompiledResult {
  readonly query: string;
  readonly topic: string;
  readonly path: string;
  readonly body: { readonly timestamp_start: number; readonly timestamp_end: number };
  /** Parameters the API applied, defaults included. */
  readonly params: unknown;
  readonly responseBytes: number;
  readonly rows: number;
  readonly oneConnection: LoadResult;
  readonly concurrent: LoadResult;
  /**
   * The same query over `days: 7`: a window relative to now, which moves every millisecond, so no
   * answer is ever the previous one (the fixed window above is a dashboard polling while nothing is written).
   */
  readonly days: { readonly oneConnection: LoadResult; readonly concurrent: LoadResult };
  /** The compiled query's statement on a cache miss (every segment and the raw edges) through pg, no HTTP. */
  readonly statementMs: Summary;
  readonly plan: PlanFacts;
  /** EXPLAIN (ANALYZE, BUFFERS) text, taken warm right after the timed runs. */
  readonly planText: string;
  /** The raw edges alone: what a request runs once its whole-bucket segments are cached (null: none). */
  readonly edgeStatementMs: Summary | null;
  readonly edgePlanText: string | null;
  readonly onTheFlyMs: Summary;
  /** on-the-fly p50 / compiled p50 over HTTP at one connection (the HTTP stack counts against compiled). */
  readonly speedup: number | null;
  /** on-the-fly p50 / compiled statement p50, both through pg. */
  readonly statementSpeedup: number | null;
  /** The API's rows equal the on-the-fly rows. */
  readonly exact: boolean;
  readonly difference: string | null;
}

/** The benchmark window: the last 7 days before `now`, both bounds off any hour or day boundary. */
export function dashboardWindow(now: number): TimeWindow {
  return { start: now - 7 * DAY_MS + 12_345, end: now - 54_321 };
}

interface QueryAnswer {
  readonly success?: boolean;
  readonly params?: AppliedParams;
  readonly data?: Record<string, unknown>[];
}

/** The statements the server runs for the benchmark request: on a cache miss, and once its segments are cached. */
export async function compiledStatements(query: CompiledQuery, pool: pg.Pool, now: number): Promise<{ cold: SqlQuery; warm?: SqlQuery }> {
  const window = dashboardWindow(now);
  const body = { timestamp_start: window.start, timestamp_end: window.end };
  const plan = query.plan({ params: prepareQuery(query, body, { kind: 'all' }, now).params as never, window, access: { kind: 'all' } });
  return partsStatements(query.rollup, plan.parts, createExecutor(pool, 1));
}

/** The result, and the API's answer itself (the ceiling repeats it, the raw stage checks against it). */
/** The load of one compiled-query request: POST of its body with the bearer token. */
export function compiledTarget(baseUrl: string, path: string, body: CompiledResult['body'], authorization: string): LoadTarget & { readonly body: string } {
  return { url: `${baseUrl}${path}`, method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export async function benchCompiled(
  query: CompiledQuery,
  ctx: { baseUrl: string; authorization: string; pool: pg.Pool; now: number; settings: LoadSettings },
): Promise<{ result: CompiledResult; answer: unknown; requestBody: string }> {
  const { baseUrl, authorization, pool, now, settings } = ctx;
  const window = dashboardWindow(now);
  const body = { timestamp_start: window.start, timestamp_end: window.end };
  const path = `/stats/${query.topic}/query/${query.name}`;
  const url = `${baseUrl}${path}`;

  const sample = await request(url, authorization, body);
  const answer = sample.json as QueryAnswer;
  if (sample.status !== 200 || answer.success !== true || !Array.isArray(answer.data)) {
    throw new Error(`${path} answered ${sample.status}: ${JSON.stringify(sample.json).slice(0, 500)}`);
  }

  const target = compiledTarget(baseUrl, path, body, authorization);
  const oneConnection = await measureLoad(target, 1, settings.warmupS, settings.durationS);
  const concurrent = await measureLoad(target, settings.connections, settings.warmupS, settings.durationS);
  const daysTarget = { ...target, body: JSON.stringify({ days: 7 }) };
  const days = {
    oneConnection: await measureLoad(daysTarget, 1, settings.warmupS, settings.durationS),
    concurrent: await measureLoad(daysTarget, settings.connections, settings.warmupS, settings.durationS),
  };

  const sql = await compiledStatements(query, pool, now);
  const statement = await timeStatement(pool, sql.cold, settings.flyRuns);
  const edges = sql.warm ? (await timeStatement(pool, sql.warm, settings.flyRuns)).ms : null;
  const plan = await explainAnalyze(pool, sql.cold, Math.min(settings.flyRuns, 5));
  const planText = await explainText(pool, sql.cold);
  const edgePlanText = sql.warm ? await explainText(pool, sql.warm) : null;

  const fly = await timeStatement(pool, onTheFly(query.name, window, answer.params ?? {}), settings.flyRuns);
  const difference = firstDifference(answer.data, fly.rows);

  const result: CompiledResult = {
    query: query.name,
    topic: query.topic,
    path,
    body,
    params: answer.params,
    responseBytes: sample.bytes,
    rows: answer.data.length,
    oneConnection,
    concurrent,
    days,
    statementMs: statement.ms,
    edgeStatementMs: edges,
    plan,
    planText,
    edgePlanText,
    onTheFlyMs: fly.ms,
    speedup: ratio(fly.ms.p50, oneConnection.latencyMs.p50),
    statementSpeedup: ratio(fly.ms.p50, statement.ms.p50),
    exact: difference === null,
    difference,
  };
  return { result, answer: sample.json, requestBody: target.body };
}
