import { VIEWS } from "../db/tables.js";
import { RUN_JOB_FACTS } from "../rollup/spec.js";
/** A job counts as failed (or succeeded, ...) whatever the case the gateway stored its status in. */
const STATUS = 'lower(j.status)';
export const FAILED = `${STATUS} = 'failed'`;
const ELAPSED = '(j.timestamp_end - j.timestamp_start)';
/**
 * The one view of the runs topic's jobs, shared by every compiled query over them (failed_jobs,
 * job_status_trend, aggregation_by_catalog, failed_jobs_by_country): each reads the measures it
 * needs (`readingOf`), and each level is stored and maintained once instead of once per query
 * (issue 29: the same TPEK, TPCK and TPECK rows were stored three times). Generated migration:
 * `npm run migration:query -- job_facts`.
 *
 * Every combination of the five dimensions those queries group or filter by, and a constrained
 * user's tenant, pipeline and environment, has a level holding it; the router takes the one with
 * the fewest estimated rows (src/read/plan.ts). A pipeline belongs to a tenant (TP joint), and a
 * catalog carries its tenant, pipeline and country, so TPCK costs the rows of the catalogs alone.
 * Grains follow the compression rule (docs/ARCHITECTURE.md): hours for all history where an hour
 * holds far fewer rows than facts; a level whose hours are about one row per run or per job (TPK
 * 0.38, TPEK 0.64, TPCK 0.65, TPECK 0.88 rows per job at 10M, docs/BENCHMARKS.md) keeps them for the
 * recent tier only, where they keep a recent window's edges under an hour (for a user constrained on
 * tenant and environment, carol in conf/access.json, too) and make job_status_trend's hourly series.
 */
export const JOB_FACTS = {
    view: VIEWS.jobFacts,
    dims: ['tenant_id', 'source_app', 'environment', 'catalog_id', 'country'],
    levels: [
        // All jobs: a minute costs ~1,440 rows a day and keeps the unfiltered series' raw edges under a minute.
        { id: 0, dims: [], grains: ['day', 'hour', 'minute'] },
        // The minutes (recent tier only: about one row per run) keep the raw edges under a minute.
        { id: 1, dims: ['tenant_id', 'source_app'], grains: ['day', 'hour', 'minute'], recent: ['minute'] },
        // Per environment an hour holds about one row per run; kept for all history, they keep an older
        // window's raw edges under an hour instead of a day.
        { id: 2, dims: ['tenant_id', 'source_app', 'environment'], grains: ['day', 'hour'] },
        // The map of a dashboard: per country, with minutes for the recent tier.
        { id: 3, dims: ['country'], grains: ['day', 'hour', 'minute'], recent: ['minute'] },
        { id: 4, dims: ['environment', 'country'], grains: ['day', 'hour'] },
        { id: 5, dims: ['tenant_id', 'source_app', 'country'], grains: ['day', 'hour'], recent: ['hour'] },
        { id: 6, dims: ['tenant_id', 'source_app', 'environment', 'country'], grains: ['day', 'hour'], recent: ['hour'] },
        // Per catalog a minute holds about one row per job: recent tier only, for the edges of a recent
        // window ranked by catalog (aggregation_by_catalog's default shape).
        { id: 7, dims: ['tenant_id', 'source_app', 'catalog_id', 'country'], grains: ['day', 'hour', 'minute'], recent: ['hour', 'minute'], indexes: ['catalog_id'] },
        { id: 8, dims: ['tenant_id', 'source_app', 'environment', 'catalog_id', 'country'], grains: ['day', 'hour'], recent: ['hour'], indexes: ['catalog_id'] },
    ],
    facts: RUN_JOB_FACTS,
    measures: {
        job_count: { view: 'v.job_count', raw: '1', combine: 'sum' },
        succeeded_count: { view: 'v.succeeded_count', raw: `(${STATUS} = 'succeeded')::int`, combine: 'sum' },
        failed_count: { view: 'v.failed_count', raw: `(${FAILED})::int`, combine: 'sum' },
        killed_count: { view: 'v.killed_count', raw: `(${STATUS} = 'killed')::int`, combine: 'sum' },
        skipped_count: { view: 'v.skipped_count', raw: `(${STATUS} = 'skipped')::int`, combine: 'sum' },
        elapsed_sum: { view: 'v.elapsed_sum', raw: `${ELAPSED}::numeric`, combine: 'sum', type: 'numeric' },
        elapsed_n: { view: 'v.elapsed_n', raw: `(${ELAPSED} IS NOT NULL)::int`, combine: 'sum' },
        elapsed_min: { view: 'v.elapsed_min', raw: ELAPSED, combine: 'min' },
        elapsed_max: { view: 'v.elapsed_max', raw: ELAPSED, combine: 'max' },
        last_job_at: { view: 'v.last_job_at', raw: 'j.timestamp_end', combine: 'max' },
        last_failure_at: { view: 'v.last_failure_at', raw: `CASE WHEN ${FAILED} THEN j.timestamp_end END`, combine: 'max' },
    },
};
//# sourceMappingURL=job-facts.js.map