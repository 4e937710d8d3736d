/**
 * Row scoping: the user's ACL constraints as a SQL condition.
 *
 * Column expressions come only from the caller's constants; patterns travel only as bound values.
 * Each pattern is anchored as ^(?:pattern)$ so it must match the WHOLE value, as valueAllowed does in JS.
 *
 * The patterns keep to the subset PostgreSQL AREs and JS RegExp (flags `su`) read alike: literals,
 * escaped metacharacters, \t \n \r \f \v \uXXXX, `.`, classes ([a-z], [^x]), quantifiers with counts
 * up to 255 (and their lazy forms), alternation, groups, ^ and $. access.json is refused at load when a
 * pattern leaves it or could make JS's backtracking matcher explode (src/auth/pattern.ts says what
 * and why). Still different by design: a NULL column never matches, so a constrained user never sees
 * rows whose scoped field is NULL.
 */
import type { Params } from '../db/sql.ts';
import { SCOPED_FIELDS, type Access, type ScopedField } from './acl.ts';

/** Returns 'TRUE' for unconstrained access, else `(<column> ~ ANY($n::text[]) AND ...)`, one term per constrained field. */
export function scopeCondition(access: Access, columns: Readonly<Record<ScopedField, string>>, p: Params): string {
  if (access.kind === 'all') return 'TRUE';
  const conditions = SCOPED_FIELDS.flatMap((field) => {
    const patterns = access.constraints[field];
    if (patterns === undefined) return [];
    return [`${columns[field]} ~ ANY(${p.add(patterns.map((pattern) => `^(?:${pattern})$`))}::text[])`];
  });
  // Parenthesised so the condition stays one term wherever the caller splices it.
  return conditions.length === 0 ? 'TRUE' : `(${conditions.join(' AND ')})`;
}
