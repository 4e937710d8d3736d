/**
 * Change keys: a cheap fingerprint of a view's sources, compared with the one seen at the last
 * successful refresh. Each costs an index lookup plus a catalog read, at any table size — never a
 * count(*). The cumulative insert/update/delete counters catch updates and deletes that a max id
 * would miss; the max id catches inserts the statistics collector has not flushed yet.
 */
import type { SqlQuery } from '../db/sql.ts';
import { TABLES } from '../db/tables.ts';

const counters = (tables: readonly string[]) =>
  `(SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables
     WHERE schemaname = 'public' AND relname IN (${tables.map((t) => `'${t}'`).join(', ')}))`;

export const RUN_JOBS_CHANGE_KEY: SqlQuery = Object.freeze({
  text: `SELECT concat_ws('/',
           (SELECT max(internal_id) FROM ${TABLES.runsJobs}),
           ${counters([TABLES.runs, TABLES.runsJobs])}) AS watermark`,
  values: [],
});

export const STATUS_CHANGE_CHANGE_KEY: SqlQuery = Object.freeze({
  text: `SELECT concat_ws('/',
           (SELECT max(last_updated_at) FROM ${TABLES.statusChange}),
           ${counters([TABLES.statusChange])}) AS watermark`,
  values: [],
});

export const DEFAULT_CRON = '*/5 * * * *';
