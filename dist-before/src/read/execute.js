/**
 * Serving one compiled query: validate the parameters once, check constrained users' filters,
 * read the merged parts (src/read/parts.ts) and finalise the answer.
 */
import { MAX_PATTERN_CHECKS, patternChecks, SCOPED_FIELDS, valueAllowed } from "../auth/acl.js";
import { PermissionError, ValidationError } from "../core/errors.js";
import { describeIssues } from "../core/validation.js";
import { clipArrays } from "../declarations/params.js";
import { readParts } from "./parts.js";
import { resolveWindow } from "../rollup/window.js";
function checkFilterPermissions(query, params, access) {
    if (access.kind !== 'constrained')
        return;
    const fields = SCOPED_FIELDS.filter((f) => query.filters.includes(f));
    const cost = (f) => patternChecks(access, f, params[f]?.length ?? 0);
    const checks = fields.reduce((n, f) => n + cost(f), 0);
    if (checks > MAX_PATTERN_CHECKS) {
        throw new ValidationError(`${fields.filter((f) => cost(f) > 0).map((f) => `'${f}'`).join(', ')}: your filter values times your access patterns come to ${checks} checks; at most ${MAX_PATTERN_CHECKS} are made per request: send fewer values`);
    }
    for (const field of fields) {
        const values = params[field];
        const denied = values?.find((v) => !valueAllowed(access, field, v));
        if (denied !== undefined) {
            throw new PermissionError(`filter '${field}' asks for '${denied}', which is outside your access constraints`);
        }
    }
}
/** Validates and normalises everything the client sent; throws ValidationError / PermissionError. */
export function prepareQuery(query, body, access, now) {
    const parsed = query.params.safeParse(clipArrays(body));
    if (!parsed.success)
        throw new ValidationError(describeIssues(parsed.error.issues));
    const raw = parsed.data;
    const window = resolveWindow(raw, now);
    if ('error' in window)
        throw new ValidationError(window.error);
    checkFilterPermissions(query, raw, access);
    const { days: _days, ...rest } = raw;
    const params = { ...rest, timestamp_start: window.start, timestamp_end: window.end };
    const plan = query.plan({ params: params, window, access });
    return {
        params,
        async run(executor, cache, realtime = false, user, admission) {
            const parts = await readParts(query.rollup, plan.parts, executor, cache, plan.rank, realtime, user, admission);
            const { rowwise } = plan;
            // A rowwise answer's rows are made when first read: a JSON answer whose row texts are all kept
            // (src/http/row-texts.ts) never makes them.
            const finalized = rowwise ? undefined : plan.finalize(parts.page);
            const truncated = finalized ? finalized.truncated : parts.page.truncated;
            const rowCount = finalized ? finalized.rows.length : parts.page.rows.length;
            const { refreshedAt, sourceCheckedAt } = parts.state;
            const live = parts.tailRows !== undefined;
            const origin = executor.origin?.();
            const replica = origin?.database === 'replica';
            const lag = replica ? origin.lagMs : null;
            const result = {
                params,
                meta: {
                    view: query.rollup.view,
                    refreshed_at: refreshedAt?.toISOString() ?? null,
                    staleness_ms: live ? (replica ? lag : (parts.stalenessMs ?? 0)) : refreshedAt ? Math.max(0, now - refreshedAt.getTime()) : null,
                    database: replica ? 'replica' : 'primary',
                    replica_lag_ms: lag,
                    realtime: live,
                    tail_rows: parts.tailRows ?? null,
                    source_checked_at: sourceCheckedAt?.toISOString() ?? null,
                    row_count: rowCount,
                    truncated,
                },
                ...(parts.deliveries ? { deliveries: parts.deliveries } : {}),
                ...(rowwise ? { sources: { key: `${query.name}|${rowwise.key}`, rows: parts.page.rows, row: rowwise.row } } : {}),
            };
            if (finalized)
                return { ...result, data: finalized.rows };
            let made;
            return Object.defineProperty(result, 'data', { enumerable: true, get: () => (made ??= parts.page.rows.map(rowwise.row)) });
        },
    };
}
//# sourceMappingURL=execute.js.map