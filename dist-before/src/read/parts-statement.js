/**
 * The one statement a read runs: the segments its cache lacks (from the view), the raw edges (from
 * the base tables) and, for a real-time read, the tail (src/read/tail.ts), each tagged with
 * `part` so that one round trip serves them all.
 */
import { hash } from 'node:crypto';
import { DigestMemo } from "../core/cache-bytes.js";
import { Params } from "../db/sql.js";
import { readPlanInputs } from "./view-state.js";
import {} from "../rollup/spec.js";
import { planParts, rawSql, readsBeyondEdges, segmentSql } from "./plan.js";
import { FACTS_COLUMN, tailSql, versionRowSql } from "./tail.js";
/** The `part` tag of the raw edges' rows; segments are tagged with their index in the plan. */
export const RAW_PART = -1;
/**
 * One statement: the given segments (by index into the plan), the raw edges, and with `realtime`
 * the tail over the time the plan's segments cover; undefined when it would read nothing. A
 * statement that reads segments or the tail also returns the view version it saw (VERSION_PART):
 * what it read is cached under that version only if it is the one the process keyed the read by.
 */
export function partsStatement(spec, plan, req, segments, realtime) {
    const p = new Params();
    const selects = segments.map((i) => segmentSql(spec, plan.level, plan.segments[i], req, p, i));
    if (plan.raw.length)
        selects.push(rawSql(spec, plan.raw, req, p, RAW_PART));
    let text;
    if (!realtime || !plan.segments.length) {
        if (segments.length)
            selects.push(versionRowSql(spec, req, p, false));
        if (!selects.length)
            return undefined;
        text = selects.join('\nUNION ALL\n');
    }
    else {
        // Real time: the tail's rows carry how many facts they hold; the others say NULL.
        const tail = tailSql(spec, plan.segments.map((s) => s.range), req, p, realtime.cached, realtime.stableTo);
        const parts = selects.length ? [`SELECT s.*, NULL::float8 AS ${FACTS_COLUMN} FROM (\n${selects.join('\nUNION ALL\n')}\n) s`] : [];
        text = [...parts, tail.tail, tail.version].join('\nUNION ALL\n');
    }
    return repeats(plan, segments) ? { text, values: p.values, name: statementName(text) } : { text, values: p.values };
}
/**
 * Whether a statement is the one its request shape runs on every request: no segments (those are read
 * once per bucket boundary and then cached) and raw ranges within the window's edges (under an hour).
 * Those are named, prepared once per connection and planned once (src/db/prepared.ts); a statement
 * reading segments, or the base tables beyond the edges, is planned for its own values each time.
 */
function repeats(plan, segments) {
    return segments.length === 0 && !readsBeyondEdges(plan);
}
/**
 * A statement's name: a hash of its text, which every value leaves alone (they are all parameters:
 * window bounds, filter values, scope patterns, the stable id, pending ids), so one request shape
 * has one name.
 */
export function statementName(text) {
    return names.of(text);
}
/** A shape's text is built again on every request; its name is hashed once (src/core/cache-bytes.ts). */
const names = new DigestMemo((text) => `es_${hash('sha256', text, 'hex').slice(0, 24)}`);
/** A fetched row without its tag. */
export const stripPart = ({ part: _part, [FACTS_COLUMN]: _facts, ...row }) => row;
/**
 * The statements a request runs, for EXPLAIN: cold (every segment and the raw edges, as on a cache
 * miss) and warm (the raw edges and the tail alone, as when its segments are cached; undefined when
 * it has neither).
 */
export async function partsStatements(spec, req, executor, realtime) {
    const { coverage, sizes } = await readPlanInputs(spec, executor);
    const plan = planParts(spec, req, coverage, sizes);
    const cold = partsStatement(spec, plan, req, plan.segments.map((_, i) => i), realtime);
    const warm = plan.raw.length || (realtime && plan.segments.length) ? partsStatement(spec, plan, req, [], realtime) : undefined;
    return warm ? { cold, warm } : { cold };
}
//# sourceMappingURL=parts-statement.js.map