/** The majors the suite runs on (ci_local.sh: embedded 18 and Debian's 15). */
export const SUPPORTED_MAJORS = { oldest: 15, newest: 18 };
/** PostgreSQL's default, which the migrations and rebuilds are tested with. */
const DEFAULT_MAX_LOCKS = 64;
export const SERVER_SETTINGS_SQL = {
    text: `SELECT current_setting('server_version_num')::int AS version_num,
                current_setting('track_counts') AS track_counts,
                current_setting('max_locks_per_transaction')::int AS max_locks_per_transaction,
                (SELECT CASE unit WHEN 'ms' THEN setting::bigint WHEN 's' THEN setting::bigint * 1000 ELSE setting::bigint END
                   FROM pg_settings WHERE name = 'statement_timeout') AS statement_timeout_ms`,
    values: [],
};
/** One line per setting that breaks an assumption of `user`; empty when all hold. */
export function settingsWarnings(s, user) {
    const warnings = [];
    const major = Math.floor(s.version_num / 10000);
    if (major < SUPPORTED_MAJORS.oldest) {
        warnings.push(`PostgreSQL ${major} is older than the oldest supported major (${SUPPORTED_MAJORS.oldest}): upgrade the server`);
    }
    else if (major > SUPPORTED_MAJORS.newest) {
        warnings.push(`PostgreSQL ${major} is newer than the newest major EventStats is tested on (${SUPPORTED_MAJORS.newest}): run the test suite against it (TEST_DATABASE_URL) before relying on it`);
    }
    if (s.track_counts !== 'on' && user !== 'migrate') {
        warnings.push('track_counts is off: a cycle cannot see that a run arrived for a job held back without one (the insert counter of pg_stat_user_tables), ' +
            'so such a job reaches the views only with the next new job (real-time answers count it at once): set track_counts = on');
    }
    if (s.max_locks_per_transaction < DEFAULT_MAX_LOCKS) {
        warnings.push(`max_locks_per_transaction is ${s.max_locks_per_transaction}, below PostgreSQL's default ${DEFAULT_MAX_LOCKS} that migrations and rebuilds are tested with: ` +
            "one may fail with 'out of shared memory'; set it to at least 64");
    }
    if (user === 'migrate' && s.statement_timeout_ms > 0) {
        warnings.push(`statement_timeout is ${s.statement_timeout_ms} ms for this role or database: a migration that builds a query's history from every job takes minutes ` +
            "at 10M jobs and would be cancelled; run migrations with PGOPTIONS='-c statement_timeout=0'");
    }
    return warnings;
}
/** Reads the settings through `query` and returns the warnings for `user`. */
export async function checkServerSettings(query, user) {
    const [row] = await query(SERVER_SETTINGS_SQL);
    return row ? settingsWarnings({ ...row, statement_timeout_ms: Number(row.statement_timeout_ms) }, user) : [];
}
//# sourceMappingURL=server-settings.js.map