/**
 * The server settings EventStats relies on, read once when a worker, `npm run refresh` or
 * `npm run migrate` starts: each one that breaks an assumption becomes one warning line naming the
 * setting, what goes wrong, and the fix. Nothing here refuses to start: every case below degrades
 * (slower, later, or a failed migration that says so), and none gives a wrong answer.
 *
 * Behaviour that needs no check (docs/ARCHITECTURE.md, "The PostgreSQL users run"):
 *   - jit: EventStats' sessions turn it off themselves (src/db/session-mode.ts, refresh-view.ts).
 *   - statement_timeout set on a role or database: the API and the cycle set their own per session;
 *     only a migration runs under it, so `migrate` is warned.
 *   - idle_in_transaction_session_timeout: EventStats never leaves a transaction idle; on the
 *     gateway's role it bounds how long a forgotten writer transaction can hold anything back.
 */
import type { SqlQuery } from './sql.ts';

/** The majors the suite runs on (ci_local.sh: embedded 18 and Debian's 15). */
export const SUPPORTED_MAJORS = { oldest: 15, newest: 18 } as const;
/** PostgreSQL's default, which the migrations and rebuilds are tested with. */
const DEFAULT_MAX_LOCKS = 64;

export type SettingsUser = 'worker' | 'refresh' | 'migrate';

export interface ServerSettings {
  readonly version_num: number;
  readonly track_counts: string;
  readonly max_locks_per_transaction: number;
  /** In ms, as this session starts (role, database and server settings applied). */
  readonly statement_timeout_ms: number;
}

export const SERVER_SETTINGS_SQL: SqlQuery = {
  text: `SELECT current_setting('server_version_num')::int AS version_num,
                current_setting('track_counts') AS track_counts,
                current_setting('max_locks_per_transaction')::int AS max_locks_per_transaction,
                (SELECT CASE unit WHEN 'ms' THEN setting::bigint WHEN 's' THEN setting::bigint * 1000 ELSE setting::bigint END
                   FROM pg_settings WHERE name = 'statement_timeout') AS statement_timeout_ms`,
  values: [],
};

/** One line per setting that breaks an assumption of `user`; empty when all hold. */
export function settingsWarnings(s: ServerSettings, user: SettingsUser): string[] {
  const warnings: string[] = [];
  const major = Math.floor(s.version_num / 10000);
  if (major < SUPPORTED_MAJORS.oldest) {
    warnings.push(`PostgreSQL ${major} is older than the oldest supported major (${SUPPORTED_MAJORS.oldest}): upgrade the server`);
  } else if (major > SUPPORTED_MAJORS.newest) {
    warnings.push(`PostgreSQL ${major} is newer than the newest major EventStats is tested on (${SUPPORTED_MAJORS.newest}): run the test suite against it (TEST_DATABASE_URL) before relying on it`);
  }
  if (s.track_counts !== 'on' && user !== 'migrate') {
    warnings.push(
      'track_counts is off: a cycle cannot see that a run arrived for a job held back without one (the insert counter of pg_stat_user_tables), ' +
        'so such a job reaches the views only with the next new job (real-time answers count it at once): set track_counts = on',
    );
  }
  if (s.max_locks_per_transaction < DEFAULT_MAX_LOCKS) {
    warnings.push(
      `max_locks_per_transaction is ${s.max_locks_per_transaction}, below PostgreSQL's default ${DEFAULT_MAX_LOCKS} that migrations and rebuilds are tested with: ` +
        "one may fail with 'out of shared memory'; set it to at least 64",
    );
  }
  if (user === 'migrate' && s.statement_timeout_ms > 0) {
    warnings.push(
      `statement_timeout is ${s.statement_timeout_ms} ms for this role or database: a migration that builds a query's history from every job takes minutes ` +
        "at 10M jobs and would be cancelled; run migrations with PGOPTIONS='-c statement_timeout=0'",
    );
  }
  return warnings;
}

/** Reads the settings through `query` and returns the warnings for `user`. */
export async function checkServerSettings(query: (q: SqlQuery) => Promise<ServerSettings[]>, user: SettingsUser): Promise<string[]> {
  const [row] = await query(SERVER_SETTINGS_SQL);
  return row ? settingsWarnings({ ...row, statement_timeout_ms: Number(row.statement_timeout_ms) }, user) : [];
}
