import { TABLES } from "../db/tables.js";
const RUN_COLUMNS = [
    { name: 'event_id', type: 'text', values: (b) => b.runs.eventId },
    { name: 'job_ref', type: 'text', values: (b) => b.runs.jobRef },
    { name: 'tenant_id', type: 'text', values: (b) => b.runs.tenantId },
    { name: 'source_app', type: 'text', values: (b) => b.runs.sourceApp },
    { name: 'source_app_version', type: 'text', values: (b) => b.runs.sourceAppVersion },
    { name: 'environment', type: 'text', values: (b) => b.runs.environment },
    { name: 'timestamp_start', type: 'bigint', values: (b) => b.runs.timestampStart },
    { name: 'timestamp_end', type: 'bigint', values: (b) => b.runs.timestampEnd },
];
const JOB_COLUMNS = [
    { name: 'event_id', type: 'text', values: (b) => b.jobs.eventId },
    { name: 'country', type: 'text', values: (b) => b.jobs.country },
    { name: 'catalog_id', type: 'text', values: (b) => b.jobs.catalogId },
    { name: 'status', type: 'text', values: (b) => b.jobs.status },
    { name: 'timestamp_start', type: 'bigint', values: (b) => b.jobs.timestampStart },
    { name: 'timestamp_end', type: 'bigint', values: (b) => b.jobs.timestampEnd },
    { name: 'message', type: 'text', values: (b) => b.jobs.message },
    { name: 'additional_info', type: 'jsonb', values: (b) => b.jobs.additionalInfo },
];
const STATUS_COLUMNS = [
    { name: 'job_id', type: 'uuid', values: (b) => b.status.jobId },
    { name: 'job_group_id', type: 'uuid', values: (b) => b.status.jobGroupId },
    { name: 'parent_job_id', type: 'uuid', values: (b) => b.status.parentJobId },
    { name: 'initial_job_id', type: 'uuid', values: (b) => b.status.initialJobId },
    { name: 'job_ref', type: 'text', values: (b) => b.status.jobRef },
    { name: 'job_name', type: 'text', values: (b) => b.status.jobName },
    { name: 'definition_id', type: 'text', values: (b) => b.status.definitionId },
    { name: 'definition_version', type: 'text', values: (b) => b.status.definitionVersion },
    { name: 'tenant_id', type: 'text', values: (b) => b.status.tenantId },
    { name: 'country', type: 'text', values: (b) => b.status.country },
    { name: 'source_app', type: 'text', values: (b) => b.status.sourceApp },
    { name: 'source_app_version', type: 'text', values: (b) => b.status.sourceAppVersion },
    { name: 'environment', type: 'text', values: (b) => b.status.environment },
    { name: 'platform', type: 'text', values: (b) => b.status.platform },
    { name: 'platform_metadata', type: 'jsonb', values: (b) => b.status.platformMetadata },
    { name: 'input_arguments', type: 'jsonb', values: (b) => b.status.inputArguments },
    { name: 'additional_context', type: 'jsonb', values: (b) => b.status.additionalContext },
    { name: 'attempt_number', type: 'integer', values: (b) => b.status.attemptNumber },
    { name: 'status_type', type: 'text', values: (b) => b.status.statusType },
    { name: 'status_subtype', type: 'text', values: (b) => b.status.statusSubtype },
    { name: 'status_detail', type: 'text', values: (b) => b.status.statusDetail },
    { name: 'created_at', type: 'bigint', epochMs: true, values: (b) => b.status.createdAt },
    { name: 'started_at', type: 'bigint', epochMs: true, values: (b) => b.status.startedAt },
    { name: 'finished_at', type: 'bigint', epochMs: true, values: (b) => b.status.finishedAt },
    { name: 'last_updated_at', type: 'bigint', epochMs: true, values: (b) => b.status.lastUpdatedAt },
];
function insertFromUnnest(table, columns, firstParam) {
    const names = columns.map((c) => c.name).join(', ');
    const arrays = columns.map((c, i) => `$${firstParam + i}::${c.type}[]`).join(', ');
    // float8 milliseconds / 1000 lands on the exact microsecond: the rounding error stays far below 0.5 us.
    const select = columns.map((c) => (c.epochMs ? `to_timestamp(${c.name}::float8 / 1000)` : c.name)).join(', ');
    return `INSERT INTO ${table} (${names}) SELECT ${select} FROM unnest(${arrays}) AS t(${names})`;
}
/**
 * Jobs go in one statement and runs with status-change rows in another, each about half the work,
 * so two connections keep both cores of a small machine busy. Each table still receives its
 * batches in order, which keeps `internal_id` reproducible.
 */
export const JOBS_INSERT_SQL = insertFromUnnest(TABLES.runsJobs, JOB_COLUMNS, 1);
/** Data-modifying CTEs run to completion even though the outer statement never reads them. */
export const RUNS_AND_STATUS_INSERT_SQL = [
    `WITH runs AS (${insertFromUnnest(TABLES.runs, RUN_COLUMNS, 1)})`,
    insertFromUnnest(TABLES.statusChange, STATUS_COLUMNS, 1 + RUN_COLUMNS.length),
].join('\n');
export function jobsInsert(batch) {
    return { text: JOBS_INSERT_SQL, values: JOB_COLUMNS.map((c) => c.values(batch)) };
}
export function runsAndStatusInsert(batch) {
    return { text: RUNS_AND_STATUS_INSERT_SQL, values: [...RUN_COLUMNS, ...STATUS_COLUMNS].map((c) => c.values(batch)) };
}
/**
 * Whether any id of the batch is already stored. The ids derive from the seed and the window end,
 * so one hit means this exact seed was written before.
 */
export function existingIdsCheck(batch) {
    return {
        text: `SELECT EXISTS (SELECT 1 FROM ${TABLES.runs} WHERE event_id = ANY($1::text[]))` +
            ` OR EXISTS (SELECT 1 FROM ${TABLES.statusChange} WHERE job_id = ANY($2::uuid[])) AS seeded`,
        values: [batch.runs.eventId, batch.status.jobId],
    };
}
//# sourceMappingURL=batch-sql.js.map