/**
 * The answer's format: JSON (the envelope) or CSV. A transport choice, so it lives here and not in
 * the queries' schemas: it is taken out of the parameters before they are validated, and neither
 * echoed in `params` nor listed in the catalog.
 *
 * The `format` parameter (GET: the query string; POST: the body) wins. Without it, the Accept header
 * decides: CSV when the client prefers text/csv to application/json, JSON otherwise (no Accept, a
 * wildcard, a browser's Accept, and any type the service cannot make keep getting JSON, as before).
 */
import type { Request } from 'express';
import { z } from 'zod';
import { parseOrThrow } from '../core/validation.ts';

export const FORMATS = Object.freeze(['json', 'csv'] as const);
export type Format = (typeof FORMATS)[number];

const FORMAT_RULE = `must be one of ${FORMATS.map((f) => `'${f}'`).join(', ')}`;
export const FormatParam = z.enum(FORMATS, { error: FORMAT_RULE });

/** The `format` parameter as JSON Schema, for the OpenAPI document (GET query parameter and POST body field). */
export const FORMAT_JSON_SCHEMA = Object.freeze({
  type: 'string',
  enum: [...FORMATS],
  description: 'json (the default) or csv; without it, Accept: text/csv asks for CSV',
});

const FormatField = z.object({ format: FormatParam.optional() });

const MEDIA_TYPES: Readonly<Record<string, Format>> = Object.freeze({ 'application/json': 'json', 'text/csv': 'csv' });

/**
 * Splits `format` off the parameters; a value other than json or csv is a 400 naming `format`.
 * Keys stay own keys (`__proto__` too), so the query's strict schema sees exactly what was sent.
 */
export function takeFormat(req: Request, input: Record<string, unknown>): { format: Format; params: Record<string, unknown> } {
  if (!Object.hasOwn(input, 'format')) return { format: negotiated(req), params: input };
  const { format } = parseOrThrow(FormatField, { format: input.format });
  const params = Object.fromEntries(Object.entries(input).filter(([k]) => k !== 'format'));
  return { format: format ?? negotiated(req), params };
}

function negotiated(req: Request): Format {
  const best = req.accepts(Object.keys(MEDIA_TYPES));
  return (best && MEDIA_TYPES[best]) || 'json';
}
