/**
 * SUPPORTED_QUERIES: the registry. Adding a compiled query means its file, a line here, and the
 * migration `npm run migration:query -- <name>` generates from it (docs/ARCHITECTURE.md).
 */
import type { TopicName, ViewName } from '../db/tables.ts';
import { aggregationByCatalog } from './aggregation-by-catalog.ts';
import { failedJobs } from './failed-jobs.ts';
import { failedJobsByCountry } from './failed-jobs-by-country.ts';
import { jobStatusTrend } from './job-status-trend.ts';
import { runStatusSummary } from './run-status-summary.ts';
import type { CompiledQuery, ViewRefresh } from './types.ts';

export const SUPPORTED_QUERIES: readonly CompiledQuery[] = Object.freeze([
  failedJobs,
  aggregationByCatalog,
  jobStatusTrend,
  runStatusSummary,
  failedJobsByCountry,
] as CompiledQuery[]);

export function queriesOf(topic: TopicName): readonly CompiledQuery[] {
  return SUPPORTED_QUERIES.filter((q) => q.topic === topic);
}

export function findQuery(topic: TopicName, name: string): CompiledQuery | undefined {
  return SUPPORTED_QUERIES.find((q) => q.topic === topic && q.name === name);
}

/** Every minute: a maintenance cycle costs what changed (src/maintenance/cycle.ts). */
export const DEFAULT_CRON = '* * * * *';

/** Every view, once, with its declaration and schedule. */
export function registeredViews(): readonly ViewRefresh[] {
  const byName = new Map<ViewName, ViewRefresh>();
  for (const q of SUPPORTED_QUERIES) byName.set(q.rollup.view, { name: q.rollup.view, spec: q.rollup, cron: q.cron ?? DEFAULT_CRON });
  return [...byName.values()];
}

/** The cron a view is refreshed on: its REFRESH_SCHEDULES override, else the registry's. */
export function viewSchedule(view: string, overrides: Readonly<Record<string, string>> = {}): string {
  return overrides[view]?.trim() ?? registeredViews().find((v) => v.name === view)?.cron ?? DEFAULT_CRON;
}
