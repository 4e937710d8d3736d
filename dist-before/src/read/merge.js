/** A group's key: its dimension values (and bucket, for a bucketed answer). */
function keyOf(groupDims, bucketed, row) {
    if (groupDims.length === 1 && !bucketed)
        return String(row[groupDims[0]] ?? '\u0000null');
    const k = groupDims.map((d) => row[d]);
    if (bucketed)
        k.push(row.t);
    return JSON.stringify(k);
}
function combine(m, a, b) {
    if (a === null)
        return b;
    if (b === null)
        return a;
    return m.combine === 'sum' ? a + b : m.combine === 'min' ? Math.min(a, b) : Math.max(a, b);
}
/**
 * Adds rows into `into` (groups already there, else in `base`), never mutating a row it did not
 * create: cached rows are shared between reads.
 */
export function mergeInto(spec, req, into, rows, base) {
    const measures = Object.entries(spec.measures);
    const owned = new Set();
    for (const row of rows) {
        if (measures.every(([name]) => row[name] === null))
            continue; // an empty aggregate
        const key = keyOf(req.groupDims, req.bucketGrain !== undefined, row);
        const have = into.get(key) ?? base?.get(key);
        if (!have) {
            into.set(key, row);
            continue;
        }
        const sum = owned.has(have) ? have : { ...have };
        for (const [name, m] of measures)
            sum[name] = combine(m, sum[name], row[name]);
        owned.add(sum);
        into.set(key, sum);
    }
}
//# sourceMappingURL=merge.js.map