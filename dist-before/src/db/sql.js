/**
 * Collects bound values while a builder writes SQL text: `p.add(v)` returns the `$n` placeholder for v.
 * Builders never place a value in the text itself.
 */
export class Params {
    values = [];
    add(value) {
        this.values.push(value);
        return `$${this.values.length}`;
    }
}
//# sourceMappingURL=sql.js.map