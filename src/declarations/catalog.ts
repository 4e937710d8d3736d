/** The catalog of compiled queries, as JSON Schema generated from the same zod schemas that validate requests. */
import { z } from 'zod';
import type { TopicName } from '../db/tables.ts';
import { queriesOf } from './index.ts';
import type { CompiledQuery } from './types.ts';

export function paramsJsonSchema(query: CompiledQuery): Record<string, unknown> {
  return z.toJSONSchema(query.params, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;
}

export function describeQuery(query: CompiledQuery) {
  return {
    name: query.name,
    description: query.description,
    parameters: paramsJsonSchema(query),
    columns: query.columns,
    view: query.rollup.view,
  };
}

export function catalogOf(topic: TopicName) {
  return queriesOf(topic).map(describeQuery);
}
