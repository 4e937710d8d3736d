/** The catalog of compiled queries, as JSON Schema generated from the same zod schemas that validate requests. */
import { z } from 'zod';
import { queriesOf } from "./index.js";
export function paramsJsonSchema(query) {
    return z.toJSONSchema(query.params, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
}
export function describeQuery(query) {
    return {
        name: query.name,
        description: query.description,
        parameters: paramsJsonSchema(query),
        columns: query.columns,
        view: query.rollup.view,
    };
}
export function catalogOf(topic) {
    return queriesOf(topic).map(describeQuery);
}
//# sourceMappingURL=catalog.js.map