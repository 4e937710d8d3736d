export function compareValues(a, b) {
    if (a === b)
        return 0;
    if (a === null || a === undefined)
        return 1;
    if (b === null || b === undefined)
        return -1;
    return a < b ? -1 : 1;
}
/** Ascending by each key in turn. */
export const byKeys = (keys) => (a, b) => {
    for (const k of keys) {
        const c = compareValues(a[k], b[k]);
        if (c !== 0)
            return c;
    }
    return 0;
};
/** The first `limit` rows in order, and whether there were more. */
export function firstN(rows, compare, limit) {
    rows.sort(compare);
    return { rows: rows.slice(0, limit), truncated: rows.length > limit };
}
//# sourceMappingURL=order.js.map