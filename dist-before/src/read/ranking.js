/** The window's groups with the raw edges' groups (`changed`) in place of or beside them. */
export function pageOf(window, changed, rank) {
    const { groups } = window;
    if (!rank) {
        if (!changed.size)
            return { rows: [...groups.values()], truncated: false };
        const rows = [...groups].map(([k, r]) => changed.get(k) ?? r);
        for (const [k, r] of changed)
            if (!groups.has(k))
                rows.push(r);
        return { rows, truncated: false };
    }
    const keep = rank.keep ?? (() => true);
    const ranked = (window.ranked ??= [...groups].filter(([, r]) => keep(r)).sort(([, a], [, b]) => rank.compare(a, b)));
    if (!changed.size)
        return { rows: ranked.slice(0, rank.limit).map(([, r]) => r), truncated: ranked.length > rank.limit };
    const extra = [...changed.values()].filter(keep).sort(rank.compare);
    let total = ranked.length + extra.length;
    for (const k of changed.keys()) {
        const old = groups.get(k);
        if (old && keep(old))
            total--;
    }
    const rows = [];
    let i = 0;
    let j = 0;
    while (rows.length < rank.limit) {
        while (i < ranked.length && changed.has(ranked[i][0]))
            i++;
        const a = ranked[i]?.[1];
        const b = extra[j];
        if (a === undefined && b === undefined)
            break;
        if (b === undefined || (a !== undefined && rank.compare(a, b) <= 0)) {
            rows.push(a);
            i++;
        }
        else {
            rows.push(b);
            j++;
        }
    }
    return { rows, truncated: total > rank.limit };
}
//# sourceMappingURL=ranking.js.map