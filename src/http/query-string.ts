/**
 * A GET's query string turned into the object a POST body gives, so that both run the same zod
 * schema and answer alike: same parameters, same normalisation, same 400s.
 *
 * What each parameter takes is read from its JSON Schema (the one the catalog and the OpenAPI
 * document show, generated from the zod schema):
 *   - a parameter that takes a list: comma lists and repeated keys are joined into one array
 *     (`group_by=tenant_id,source_app`, `tenant_id=t1&tenant_id=t2`); `group_by=` is the empty list.
 *     Where the parameter also takes a single string (a filter), one value without a comma stays a
 *     string, as `{"tenant_id": "t1"}` would. A value holding a comma cannot be sent this way: use POST.
 *   - a parameter that takes a number: a JSON number literal becomes that number (so `days=1.5` and
 *     `days=1e400` fail as `{"days": 1.5}` and `{"days": 1e400}` do); anything else stays a string and
 *     fails as a string would.
 *   - anything else, unknown keys included, stays a string; a repeated key becomes an array of strings.
 *     The strict schema then names an unknown key as it names an unknown body field.
 * Keys keep the order of their first appearance.
 */
import type { Request } from 'express';
import { ValidationError } from '../core/errors.ts';
import { paramsJsonSchema } from '../declarations/catalog.ts';
import type { CompiledQuery } from '../declarations/types.ts';

interface Takes {
  readonly list: boolean;
  readonly string: boolean;
  readonly number: boolean;
}

type JsonSchema = { type?: string | string[]; enum?: unknown[]; anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; properties?: Record<string, JsonSchema> };

/** The JSON types a schema (and its anyOf / oneOf branches) accepts. */
function typesOf(schema: JsonSchema, out = new Set<string>()): Set<string> {
  if (typeof schema.type === 'string') out.add(schema.type);
  else if (Array.isArray(schema.type)) schema.type.forEach((t) => out.add(t));
  if (schema.enum?.some((v) => typeof v === 'string')) out.add('string');
  for (const branch of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) typesOf(branch, out);
  return out;
}

const takesCache = new WeakMap<CompiledQuery, ReadonlyMap<string, Takes>>();

/** What each parameter of the query takes (built once per query). */
export function parameterTakes(query: CompiledQuery): ReadonlyMap<string, Takes> {
  let takes = takesCache.get(query);
  if (!takes) {
    const properties = (paramsJsonSchema(query) as JsonSchema).properties ?? {};
    takes = new Map(
      Object.entries(properties).map(([name, schema]): [string, Takes] => {
        const types = typesOf(schema);
        return [name, { list: types.has('array'), string: types.has('string'), number: types.has('integer') || types.has('number') }];
      }),
    );
    takesCache.set(query, takes);
  }
  return takes;
}

/** The grammar of a JSON number: what JSON.parse would read as one. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** One component of the query string, decoded as a form: `+` is a space, percent-escapes are UTF-8. */
function decode(component: string): string {
  try {
    return decodeURIComponent(component.replaceAll('+', ' '));
  } catch {
    throw new ValidationError(`query: '${printable(component)}' is not valid percent-encoded UTF-8`);
  }
}

/** Each key of a URL's query string with its values, in order. Malformed percent-encoding is a 400 (not a silent U+FFFD). */
export function queryEntries(url: string): Map<string, string[]> {
  const at = url.indexOf('?');
  const entries = new Map<string, string[]>();
  if (at < 0) return entries;
  for (const piece of url.slice(at + 1).split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const key = decode(eq < 0 ? piece : piece.slice(0, eq));
    const value = eq < 0 ? '' : decode(piece.slice(eq + 1));
    const values = entries.get(key);
    if (values) values.push(value);
    else entries.set(key, [value]);
  }
  return entries;
}

/** A name as a message may quote it: printable ASCII, anything else as '?'. */
function printable(s: string): string {
  const shown = [...s].map((c) => (c >= ' ' && c <= '~' ? c : '?')).join('');
  return shown.length > 64 ? `${shown.slice(0, 64)}...` : shown;
}

function convert(values: readonly string[], takes: Takes | undefined): unknown {
  const one = values.length === 1 ? values[0]! : undefined;
  if (takes?.list) {
    if (takes.string && one !== undefined && !one.includes(',')) return one;
    if (one === '') return [];
    return values.flatMap((v) => v.split(','));
  }
  if (one === undefined) return [...values];
  if (takes?.number && JSON_NUMBER.test(one)) return Number(one);
  return one;
}

/** The request's query string as the body a POST to the same query would carry. */
export function queryStringParams(req: Request, query: CompiledQuery): Record<string, unknown> {
  const takes = parameterTakes(query);
  return Object.fromEntries([...queryEntries(req.originalUrl)].map(([key, values]) => [key, convert(values, takes.get(key))]));
}
