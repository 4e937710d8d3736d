/**
 * Validation at the edge: zod parses once (defaults, clamps, normalisation) and its issues become
 * one 400 whose message names each field and the rule it broke.
 */
import type { z } from 'zod';
import { ValidationError } from './errors.ts';

export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown field(s) ${i.keys.map((k) => `'${k}'`).join(', ')}: not accepted here`;
      const field = i.path.length ? `'${i.path.join('.')}'` : 'body';
      return `${field}: ${i.message}`;
    })
    .join('; ');
}

export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(describeIssues(result.error.issues));
  return result.data;
}

/** The optional JSON-object body of POST routes: absent means {}. */
export function bodyObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('body: must be a JSON object');
  return body as Record<string, unknown>;
}
