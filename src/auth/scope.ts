/**
 * Row scoping: the user's ACL constraints as a SQL condition.
 *
 * Column expressions come only from the caller's constants; patterns travel only as bound values.
 * Each pattern is anchored as ^(?:pattern)$ so it must match the WHOLE value, as valueAllowed does in JS.
 *
 * PostgreSQL AREs and JS RegExp agree on the common subset: literals, escaped metacharacters, classes
 * ([a-z], [^x], \d \s \w), `.`, quantifiers (* + ? {n,m} and their lazy forms), alternation, (?:...) groups,
 * lookahead. Known differences, most rejected when access.json is loaded (see acl.ts):
 *   - \b \B: word boundary in JS; backspace and backslash in PostgreSQL (which spells boundaries \y \m \M);
 *   - \x: exactly two hex digits in JS, any number in PostgreSQL;
 *   - [[:alpha:]] POSIX classes exist only in PostgreSQL; named groups, \k, \p{...} and \u{...} only in JS;
 *   - \w and \d follow the database's locale for non-ASCII letters and digits in PostgreSQL, but are ASCII in JS;
 *   - a NULL column never matches, so a constrained user never sees rows whose scoped field is NULL.
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
