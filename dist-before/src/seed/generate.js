/**
 * Pure row generation: column arrays ready to bind as unnest() parameters. Runs and status-change
 * rows come from separate streams, so the runs of a seed do not change when only the status-row
 * count does, and the first N runs are the same whatever the total.
 */
import { Prng, WeightedChoice, hex8 } from "./prng.js";
import { COUNTRIES, MESSAGES, SHAPE, UNIVERSE } from "./universe.js";
const RUN_STREAM = 1;
const STATUS_STREAM = 2;
/** Versions move on every two weeks, so a pipeline's version changes over a long window. */
const RELEASE_PERIOD_MS = 14 * 86_400_000;
const STATUS_QUEUE_DELAY_MAX_MS = 10 * 60_000;
const LN_ELAPSED_RATIO = Math.log(SHAPE.jobElapsedMs.max / SHAPE.jobElapsedMs.min);
const ENVIRONMENT_CHOICE = new WeightedChoice(Object.entries(SHAPE.environmentShares));
const JOB_STATUS_CHOICE = new WeightedChoice(Object.entries(SHAPE.jobStatusShares));
const STATUS_TYPE_CHOICE = new WeightedChoice(Object.entries(SHAPE.statusTypeShares).map(([k, w]) => [k === 'null' ? null : k, w]));
const ATTEMPT_CHOICE = new WeightedChoice(Object.entries(SHAPE.attemptShares).map(([k, w]) => [Number(k), w]));
const FAILED_MESSAGE_CHOICE = new WeightedChoice([
    [MESSAGES.noData, SHAPE.failedMessageShares.noData],
    [MESSAGES.noRecords, SHAPE.failedMessageShares.noRecords],
    [MESSAGES.generic, SHAPE.failedMessageShares.generic],
]);
const FAILED_SUBTYPES = [
    ['NO_DATA', MESSAGES.noData],
    ['NO_RECORDS', MESSAGES.noRecords],
    ['ERROR', MESSAGES.generic],
];
const KILLED_SUBTYPES = [
    ['USER', 'Killed by operator'],
    ['TIMEOUT', 'Killed: exceeded the maximum runtime'],
];
const TRIGGERS = ['schedule', 'manual', 'backfill'];
/** The gateway stores statuses as producers send them; a few producers capitalise. */
function mixedCase(status, upper) {
    return upper ? status.toUpperCase() : status.charAt(0).toUpperCase() + status.slice(1);
}
function version(p, at) {
    return `${p.major}.${p.minor}.${Math.floor(at / RELEASE_PERIOD_MS) % 40}`;
}
function elapsed(rng) {
    return Math.round(SHAPE.jobElapsedMs.min * Math.exp(rng.float() * LN_ELAPSED_RATIO));
}
export function emptyBatch() {
    return {
        runs: { eventId: [], jobRef: [], tenantId: [], sourceApp: [], sourceAppVersion: [], environment: [], timestampStart: [], timestampEnd: [] },
        jobs: { eventId: [], country: [], catalogId: [], status: [], timestampStart: [], timestampEnd: [], message: [], additionalInfo: [] },
        status: {
            jobId: [], jobGroupId: [], parentJobId: [], initialJobId: [], jobRef: [], jobName: [], definitionId: [], definitionVersion: [],
            tenantId: [], country: [], sourceApp: [], sourceAppVersion: [], environment: [], platform: [], platformMetadata: [],
            inputArguments: [], additionalContext: [], attemptNumber: [], statusType: [], statusSubtype: [], statusDetail: [],
            createdAt: [], startedAt: [], finishedAt: [], lastUpdatedAt: [],
        },
    };
}
export class RowGenerator {
    window;
    runRng;
    statusRng;
    windowMs;
    /** Reused for the partial shuffle that picks a run's distinct catalogs. */
    scratch = [];
    constructor(seed, window) {
        this.window = window;
        this.windowMs = window.end - window.start;
        if (!(this.windowMs > 0))
            throw new RangeError('the time window must not be empty');
        // The window end is part of the seed: re-seeding the same database later (default end: now)
        // draws fresh ids instead of colliding with the earlier rows.
        this.runRng = new Prng(seed, window.end, RUN_STREAM);
        this.statusRng = new Prng(seed, window.end, STATUS_STREAM);
    }
    /** Appends `runs` runs (with their jobs) and `statusRows` status-change rows to a fresh batch. */
    next(runs, statusRows) {
        const batch = emptyBatch();
        for (let i = 0; i < runs; i++)
            this.addRun(batch);
        for (let i = 0; i < statusRows; i++)
            this.addStatusRow(batch.status);
        return batch;
    }
    addRun({ runs, jobs }) {
        const rng = this.runRng;
        const { end } = this.window;
        const pipeline = rng.pick(UNIVERSE.pipelines);
        const start = this.window.start + rng.int(this.windowMs);
        const eventId = rng.uuid();
        let runEnd = null;
        const owned = pipeline.catalogs;
        const scratch = this.scratch;
        scratch.length = 0;
        for (const c of owned)
            scratch.push(c);
        const jobCount = SHAPE.jobsPerRun.min + rng.int(SHAPE.jobsPerRun.max - SHAPE.jobsPerRun.min + 1);
        for (let j = 0; j < jobCount; j++) {
            const k = j + rng.int(scratch.length - j);
            const catalogIndex = scratch[k];
            scratch[k] = scratch[j];
            scratch[j] = catalogIndex;
            const catalog = UNIVERSE.catalogs[catalogIndex];
            if (!catalog)
                throw new Error(`catalog ${catalogIndex} is missing from the universe`);
            const status = JOB_STATUS_CHOICE.draw(rng);
            // Never after the window closes, and never before the run.
            const jobStart = Math.min(start + rng.int(SHAPE.jobStartDelayMaxMs), end - 1);
            const jobEndAt = jobStart + elapsed(rng);
            // A job still going when the window closes has not reported an end yet.
            const jobEnd = jobEndAt >= end || rng.chance(SHAPE.nullJobEndShare) ? null : jobEndAt;
            if (jobEnd !== null && (runEnd === null || jobEnd > runEnd))
                runEnd = jobEnd;
            jobs.eventId.push(eventId);
            jobs.country.push(catalog.country);
            jobs.catalogId.push(catalog.catalogId);
            jobs.status.push(rng.chance(SHAPE.mixedCaseStatusShare) ? mixedCase(status, rng.chance(0.5)) : status);
            jobs.timestampStart.push(rng.chance(SHAPE.nullJobStartShare) ? null : jobStart);
            jobs.timestampEnd.push(jobEnd);
            jobs.message.push(this.jobMessage(status));
            jobs.additionalInfo.push(rng.chance(SHAPE.additionalInfoShare) ? this.additionalInfo() : null);
        }
        runs.eventId.push(eventId);
        runs.jobRef.push(`${pipeline.sourceApp}/${hex8(rng.u32())}`);
        runs.tenantId.push(pipeline.tenantId);
        runs.sourceApp.push(pipeline.sourceApp);
        runs.sourceAppVersion.push(version(pipeline, start));
        runs.environment.push(ENVIRONMENT_CHOICE.draw(rng));
        runs.timestampStart.push(start);
        runs.timestampEnd.push(runEnd);
    }
    jobMessage(status) {
        const rng = this.runRng;
        switch (status) {
            case 'failed':
                return rng.pick(FAILED_MESSAGE_CHOICE.draw(rng));
            case 'killed':
                return rng.chance(0.5) ? rng.pick(MESSAGES.killed) : null;
            case 'skipped':
                return rng.chance(0.3) ? rng.pick(MESSAGES.skipped) : null;
            case 'succeeded':
                return rng.chance(0.01) ? rng.pick(MESSAGES.succeeded) : null;
        }
    }
    additionalInfo() {
        const rng = this.runRng;
        const rows = rng.int(5_000_000);
        return rng.chance(0.3) ? `{"rows": ${rows}, "retries": ${1 + rng.int(3)}}` : `{"rows": ${rows}}`;
    }
    addStatusRow(s) {
        const rng = this.statusRng;
        const { end } = this.window;
        const pipeline = rng.pick(UNIVERSE.pipelines);
        const catalog = UNIVERSE.catalogs[rng.pick(pipeline.catalogs)];
        if (!catalog)
            throw new Error(`pipeline ${pipeline.sourceApp} owns a missing catalog`);
        const createdAt = this.window.start + rng.int(this.windowMs);
        const attempt = ATTEMPT_CHOICE.draw(rng);
        const jobId = rng.uuid();
        let type = STATUS_TYPE_CHOICE.draw(rng);
        // A row without a status (the gateway accepts one) carries no progress timestamps either.
        let startedAt = type === 'WAITING' || type === null ? null : createdAt + rng.int(STATUS_QUEUE_DELAY_MAX_MS);
        const terminal = type === 'SUCCEEDED' || type === 'FAILED' || type === 'KILLED';
        let finishedAt = terminal && startedAt !== null ? startedAt + elapsed(rng) : null;
        // The row is the latest state as of the window end: nothing may have happened after it.
        if (finishedAt !== null && finishedAt >= end) {
            finishedAt = null;
            type = 'RUNNING';
        }
        if (startedAt !== null && startedAt >= end) {
            startedAt = null;
            type = 'WAITING';
        }
        let subtype = null;
        let detail = null;
        if (type === 'FAILED') {
            const [sub, messages] = rng.pick(FAILED_SUBTYPES);
            subtype = sub;
            detail = rng.pick(messages);
        }
        else if (type === 'KILLED') {
            const [sub, message] = rng.pick(KILLED_SUBTYPES);
            subtype = sub;
            detail = message;
        }
        s.jobId.push(jobId);
        s.jobGroupId.push(rng.chance(0.7) ? rng.uuid() : null);
        s.parentJobId.push(attempt > 1 ? rng.uuid() : null);
        s.initialJobId.push(attempt > 1 ? rng.uuid() : jobId);
        s.jobRef.push(`${pipeline.sourceApp}/${hex8(rng.u32())}`);
        s.jobName.push(`load ${catalog.catalogId}`);
        s.definitionId.push(`${pipeline.sourceApp}/${catalog.catalogId}`);
        s.definitionVersion.push(String(1 + rng.int(5)));
        s.tenantId.push(pipeline.tenantId);
        s.country.push(rng.chance(SHAPE.countryNullShare) ? null : rng.pick(COUNTRIES));
        s.sourceApp.push(pipeline.sourceApp);
        s.sourceAppVersion.push(version(pipeline, createdAt));
        s.environment.push(ENVIRONMENT_CHOICE.draw(rng));
        s.platform.push(pipeline.platform);
        s.platformMetadata.push(rng.chance(0.5) ? `{"cluster": "cl-${String(rng.int(40)).padStart(2, '0')}", "workers": ${2 + rng.int(15)}}` : null);
        s.inputArguments.push(rng.chance(0.6) ? `{"business_date": "${new Date(createdAt).toISOString().slice(0, 10)}"}` : null);
        s.additionalContext.push(rng.chance(0.1) ? `{"trigger": "${rng.pick(TRIGGERS)}"}` : null);
        s.attemptNumber.push(attempt);
        s.statusType.push(type);
        s.statusSubtype.push(subtype);
        s.statusDetail.push(detail);
        s.createdAt.push(createdAt);
        s.startedAt.push(startedAt);
        s.finishedAt.push(finishedAt);
        s.lastUpdatedAt.push(finishedAt ?? startedAt ?? createdAt);
    }
}
//# sourceMappingURL=generate.js.map