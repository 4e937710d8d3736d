/** A statement ready for the executor: SQL text with $n placeholders and the values bound to them. */
export interface SqlQuery {
  readonly text: string;
  readonly values: readonly unknown[];
  /** Set to use a named prepared statement (the text must be constant for a given name). */
  readonly name?: string;
}

/**
 * Collects bound values while a builder writes SQL text: `p.add(v)` returns the `$n` placeholder for v.
 * Builders never place a value in the text itself.
 */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
