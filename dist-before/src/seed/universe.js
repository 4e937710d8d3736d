/**
 * The fixed world the generator draws from: tenants, pipelines, catalogs and the shares that shape
 * the rows. It is built from its own constant seed, never from `--seed`, so a benchmark can name
 * a tenant, pipeline or catalog and rely on it existing with the same owner in every seeded database.
 */
import { STATUS_TYPES } from "../db/tables.js";
import { Prng } from "./prng.js";
/** Every number a benchmark may cite about the seeded data. */
export const SHAPE = Object.freeze({
    tenants: 50,
    pipelines: 200,
    catalogs: 5000,
    /** Jobs per run are uniform over [min, max]; `mean` is the expectation. */
    jobsPerRun: Object.freeze({ min: 1, max: 9, mean: 5 }),
    defaultDays: 90,
    defaultSeed: 42,
    /** Share of catalogs (and so, about, of jobs) without a country. */
    countryNullShare: 0.08,
    jobStatusShares: Object.freeze({ succeeded: 0.9, failed: 0.05, killed: 0.02, skipped: 0.03 }),
    /** Jobs whose status keeps the gateway's unnormalised case (`Failed`, `SUCCEEDED`). */
    mixedCaseStatusShare: 0.02,
    /** How failed jobs' messages split; other jobs mostly carry no message. */
    failedMessageShares: Object.freeze({ noData: 0.25, noRecords: 0.15, generic: 0.6 }),
    /** A job starts up to this long after its run; elapsed time is log-uniform over [min, max]. */
    jobStartDelayMaxMs: 15 * 60_000,
    jobElapsedMs: Object.freeze({ min: 1_000, max: 7_200_000 }),
    nullJobStartShare: 0.01,
    /** Jobs still running when the window closes also lack an end, so the share is slightly higher. */
    nullJobEndShare: 0.03,
    additionalInfoShare: 0.3,
    environmentShares: Object.freeze({ prod: 0.4, uat: 0.2, test: 0.2, dev: 0.2 }),
    /** Status-change rows default to one per run. */
    statusRowsPerRun: 1,
    statusTypeShares: Object.freeze({ SUCCEEDED: 0.8, FAILED: 0.06, KILLED: 0.02, RUNNING: 0.05, WAITING: 0.05, null: 0.02 }),
    attemptShares: Object.freeze({ 1: 0.88, 2: 0.1, 3: 0.02 }),
});
export const ENVIRONMENTS = Object.freeze(['dev', 'test', 'uat', 'prod']);
export const COUNTRIES = Object.freeze(['ZA', 'BW', 'GH', 'KE', 'MU', 'MZ', 'NA', 'NG', 'SC', 'TZ', 'UG', 'ZM']);
/** Tenants the gateway stored in mixed case; queries must group them case-insensitively. */
export const MIXED_CASE_TENANTS = Object.freeze(['Tenant-ACME', 'TENANT-GLOBEX', 'Tenant-Initech', 'tenant-Umbrella', 'Tenant-Hooli']);
export const JOB_STATUSES = Object.freeze(['succeeded', 'failed', 'killed', 'skipped']);
export const PLATFORMS = Object.freeze(['databricks', 'emr', 'glue', 'kubernetes']);
/** Failure messages as upstream producers word them: the case varies, the phrase does not. */
export const MESSAGES = Object.freeze({
    noData: Object.freeze(['No data received', 'no data received from the source system', 'No data for the requested partition', 'NO DATA RECEIVED']),
    noRecords: Object.freeze(['No records to send', 'no records to send to the target', 'NO RECORDS TO SEND']),
    generic: Object.freeze([
        'java.lang.OutOfMemoryError: Java heap space',
        'Connection reset by peer',
        'Schema mismatch: column amount expected decimal(18,2), got string',
        'Timed out after 3600 s waiting for a table lock',
        'Permission denied writing the target table',
        'Job aborted due to stage failure: task 12 failed 4 times',
    ]),
    killed: Object.freeze(['Killed by operator', 'Killed: exceeded the maximum runtime']),
    skipped: Object.freeze(['Skipped: upstream dependency not met', 'Skipped by schedule']),
    succeeded: Object.freeze(['Completed with warnings']),
});
const UNIVERSE_SEED = 20_251_124;
const DOMAINS = ['payments', 'cards', 'loans', 'ledger', 'customer', 'fraud', 'treasury', 'risk', 'marketing', 'wealth'];
const KINDS = ['ingest', 'export', 'enrich', 'reconcile', 'publish'];
const ENTITIES = ['transactions', 'accounts', 'balances', 'events', 'customers', 'positions', 'limits', 'rates'];
const pad = (n, width) => String(n).padStart(width, '0');
function buildTenants() {
    const tenants = Array.from({ length: SHAPE.tenants }, (_, i) => `tenant-${pad(i + 1, 2)}`);
    // Spread the mixed-case names over the list rather than bunching them at one end.
    const step = Math.floor(SHAPE.tenants / MIXED_CASE_TENANTS.length);
    MIXED_CASE_TENANTS.forEach((name, k) => (tenants[k * step + 7] = name));
    return tenants;
}
function buildUniverse() {
    const rng = new Prng(UNIVERSE_SEED);
    const tenants = buildTenants();
    // The first pipelines go one to each tenant, so no tenant is empty; the rest land anywhere,
    // which makes tenants unequal in size as real ones are.
    const owners = Array.from({ length: SHAPE.pipelines }, (_, p) => (p < SHAPE.tenants ? p : rng.int(SHAPE.tenants)));
    const domains = owners.map(() => rng.pick(DOMAINS));
    const catalogsOf = owners.map(() => []);
    const catalogs = [];
    const guaranteed = SHAPE.pipelines * SHAPE.jobsPerRun.max;
    for (let i = 0; i < SHAPE.catalogs; i++) {
        // Every pipeline owns enough catalogs for its largest run; the remainder is spread at random.
        const pipeline = i < guaranteed ? i % SHAPE.pipelines : rng.int(SHAPE.pipelines);
        const domain = domains[pipeline] ?? 'misc';
        const country = rng.chance(SHAPE.countryNullShare) ? null : rng.pick(COUNTRIES);
        catalogs.push(Object.freeze({ catalogId: `${domain}.${rng.pick(ENTITIES)}_${pad(i, 4)}`, pipeline, country }));
        catalogsOf[pipeline]?.push(i);
    }
    const pipelines = owners.map((tenant, p) => Object.freeze({
        sourceApp: `${domains[p]}-${rng.pick(KINDS)}-${pad(p, 3)}`,
        tenantId: tenants[tenant] ?? 'tenant-01',
        platform: rng.pick(PLATFORMS),
        major: 1 + rng.int(3),
        minor: rng.int(10),
        catalogs: Object.freeze(catalogsOf[p] ?? []),
    }));
    return Object.freeze({ tenants: Object.freeze(tenants), pipelines: Object.freeze(pipelines), catalogs: Object.freeze(catalogs) });
}
export const UNIVERSE = buildUniverse();
//# sourceMappingURL=universe.js.map