/**
 * Ordering and limiting answers in the API, the way PostgreSQL orders them under the "C" collation:
 * strings by code unit (the same as by code point outside the astral planes), NULL after every value.
 * Answers therefore do not depend on the database's locale.
 */
type Row = Readonly<Record<string, unknown>>;

export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return (a as string | number) < (b as string | number) ? -1 : 1;
}

/** Ascending by each key in turn. */
export const byKeys =
  (keys: readonly string[]) =>
  (a: Row, b: Row): number => {
    for (const k of keys) {
      const c = compareValues(a[k], b[k]);
      if (c !== 0) return c;
    }
    return 0;
  };

/** The first `limit` rows in order, and whether there were more. */
export function firstN<T>(rows: T[], compare: (a: T, b: T) => number, limit: number): { rows: T[]; truncated: boolean } {
  rows.sort(compare);
  return { rows: rows.slice(0, limit), truncated: rows.length > limit };
}
