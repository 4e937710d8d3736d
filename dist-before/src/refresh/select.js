import { UsageError } from "../core/errors.js";
import { registeredViews, SUPPORTED_QUERIES } from "../declarations/index.js";
/** Views named by query or view name (with or without the schema); all of them when none is named. */
export function selectViews(names) {
    const all = registeredViews();
    if (!names.length)
        return [...all];
    return names.map((n) => {
        const view = all.find((v) => v.name === n || v.name === `eventstats.${n}`) ?? registeredViews().find((v) => v.name === SUPPORTED_QUERIES.find((q) => q.name === n)?.rollup.view);
        if (!view) {
            throw new UsageError(`unknown query or view '${n}'; known: ${[...SUPPORTED_QUERIES.map((q) => q.name), ...all.map((v) => v.name)].join(', ')}`);
        }
        return view;
    });
}
//# sourceMappingURL=select.js.map