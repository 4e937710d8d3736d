import { SCOPED_FIELDS } from "./acl.js";
/** Returns 'TRUE' for unconstrained access, else `(<column> ~ ANY($n::text[]) AND ...)`, one term per constrained field. */
export function scopeCondition(access, columns, p) {
    if (access.kind === 'all')
        return 'TRUE';
    const conditions = SCOPED_FIELDS.flatMap((field) => {
        const patterns = access.constraints[field];
        if (patterns === undefined)
            return [];
        return [`${columns[field]} ~ ANY(${p.add(patterns.map((pattern) => `^(?:${pattern})$`))}::text[])`];
    });
    // Parenthesised so the condition stays one term wherever the caller splices it.
    return conditions.length === 0 ? 'TRUE' : `(${conditions.join(' AND ')})`;
}
//# sourceMappingURL=scope.js.map