/**
 * The per-topic ACL, read from access.json in the upstream gateway's format:
 *   { "<topic>": ["alice", "bob"] }                                  listed users see every row
 *   { "<topic>": { "carol": { "tenant_id": ["acme.*"] }, "dave": {} } }  per-user row constraints
 * A constraint maps a row field to regular expressions, one of which must match the whole value.
 * Each pattern must keep to the subset JavaScript and PostgreSQL read alike, without nested
 * repetition (src/auth/pattern.ts); a file breaking that does not load.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { patternProblem } from "./pattern.js";
export const SCOPED_FIELDS = Object.freeze(['tenant_id', 'source_app', 'environment']);
const ALL = Object.freeze({ kind: 'all' });
/**
 * 's': `.` matches a newline, as in PostgreSQL; 'u': strict syntax, which rejects the lenient legacy forms
 * (lone braces, unknown escapes such as \y) whose meaning differs between JS and PostgreSQL.
 */
const FLAGS = 'su';
/** A pattern as the message shows it: long ones cut, so the message stays one readable line. */
function shown(pattern) {
    return JSON.stringify(pattern.length > 60 ? `${pattern.slice(0, 60)}…` : pattern);
}
const Pattern = z.string().min(1, 'a pattern must not be empty').superRefine((p, ctx) => {
    // The rules (the subset both engines read alike, the ReDoS guard) and why: src/auth/pattern.ts.
    const problem = patternProblem(p);
    if (problem !== undefined) {
        ctx.addIssue({ code: 'custom', message: `regular expression ${shown(p)} ${problem}` });
        return;
    }
    try {
        new RegExp(p, FLAGS); // what valueAllowed compiles: never let a request be the first to fail on it
    }
    catch (err) {
        ctx.addIssue({ code: 'custom', message: `regular expression ${shown(p)} is not valid: ${err.message}` });
    }
});
const ConstraintsSchema = z.strictObject({
    tenant_id: z.array(Pattern).min(1).optional(),
    source_app: z.array(Pattern).min(1).optional(),
    environment: z.array(Pattern).min(1).optional(),
});
const UserListSchema = z.array(z.string().trim().min(1));
const UserMapSchema = z.record(z.string().trim().min(1), ConstraintsSchema);
const FileSchema = z.record(z.string().trim().min(1), z.unknown());
function where(path) {
    const labels = ['topic', 'user', 'field', 'pattern'];
    return path
        .map((p, i) => `${labels[i] ?? 'at'} ${typeof p === 'number' ? `#${p + 1}` : JSON.stringify(String(p))}`)
        .join(', ');
}
function parse(label, schema, value, prefix) {
    const parsed = schema.safeParse(value);
    if (parsed.success)
        return parsed.data;
    const issue = parsed.error.issues[0];
    const detail = issue?.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.join(', ')}; allowed: ${SCOPED_FIELDS.join(', ')}`
        : (issue?.message ?? 'invalid');
    const at = where([...prefix, ...(issue?.path ?? [])]);
    throw new Error(`${label}: ${at === '' ? '' : `${at}: `}${detail}`);
}
function toAccess(constraints) {
    const present = SCOPED_FIELDS.filter((f) => constraints[f] !== undefined);
    if (present.length === 0)
        return ALL;
    const frozen = Object.fromEntries(present.map((f) => [f, Object.freeze([...(constraints[f] ?? [])])]));
    return Object.freeze({ kind: 'constrained', constraints: Object.freeze(frozen) });
}
export class AccessControl {
    topics;
    constructor(topics) {
        this.topics = topics;
    }
    /** Reads and validates access.json; throws an Error naming the file, topic, user and field at fault. */
    static fromFile(path) {
        let raw;
        try {
            raw = JSON.parse(readFileSync(path, 'utf8'));
        }
        catch (err) {
            throw new Error(`${path}: cannot read the access file: ${err.message}`, { cause: err });
        }
        return AccessControl.fromObject(raw, path);
    }
    static fromObject(raw, label = 'access.json') {
        const topics = new Map();
        for (const [topicKey, entry] of Object.entries(parse(label, FileSchema, raw, []))) {
            const topic = topicKey.trim().toLowerCase();
            if (topics.has(topic))
                throw new Error(`${label}: topic ${JSON.stringify(topicKey)} is listed twice (topics are case-insensitive)`);
            const users = new Map();
            const add = (name, access) => {
                const user = name.trim().toLowerCase();
                if (users.has(user)) {
                    throw new Error(`${label}: topic ${JSON.stringify(topicKey)}, user ${JSON.stringify(name)} is listed twice (user names are case-insensitive)`);
                }
                users.set(user, access);
            };
            if (Array.isArray(entry)) {
                for (const name of parse(label, UserListSchema, entry, [topicKey]))
                    add(name, ALL);
            }
            else {
                for (const [name, c] of Object.entries(parse(label, UserMapSchema, entry, [topicKey])))
                    add(name, toAccess(c));
            }
            topics.set(topic, users);
        }
        return new AccessControl(topics);
    }
    /** The user's access to the topic, or undefined when the user (or topic) is not listed: the caller answers 403. */
    access(topic, user) {
        return this.topics.get(topic.trim().toLowerCase())?.get(user.trim().toLowerCase());
    }
}
const compiled = new Map();
function fullMatch(pattern) {
    let re = compiled.get(pattern);
    if (re === undefined) {
        // Patterns only come from access.json, so this cache is bounded by the file.
        re = new RegExp(`^(?:${pattern})$`, FLAGS);
        compiled.set(pattern, re);
    }
    return re;
}
/**
 * The most value-against-pattern checks one request may cost (its filter values on a constrained
 * field times the user's patterns for it, summed over the fields): each is a regular expression run
 * in the event loop, and a request may carry a few hundred filter values.
 */
export const MAX_PATTERN_CHECKS = 1_000;
/** How many pattern checks `values` on `field` cost this user (0 for a field they are not constrained on). */
export function patternChecks(access, field, values) {
    if (access.kind === 'all')
        return 0;
    return values * (access.constraints[field]?.length ?? 0);
}
/** Whether a value lies inside the user's constraints on a field: some pattern matches the WHOLE value. */
export function valueAllowed(access, field, value) {
    if (access.kind === 'all')
        return true;
    const patterns = access.constraints[field];
    return patterns === undefined || patterns.some((p) => fullMatch(p).test(value));
}
//# sourceMappingURL=acl.js.map