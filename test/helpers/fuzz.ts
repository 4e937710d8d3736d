/**
 * The HTTP fuzz, shared by the suite (test/integration/http/fuzz.test.ts, a few hundred cases) and
 * `npm run fuzz` (test/fuzz/run.ts, 10,000): fast-check arbitraries for whole HTTP requests, steered by
 * the routes' own zod schemas and mixed with a dictionary of known-bad values; a raw-socket client that
 * sends what Node's own client refuses to build; and the invariants every answer must hold.
 */
import { generateKeyPairSync } from 'node:crypto';
import net from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { TOPICS } from '../../src/db/tables.ts';
import { BODY_LIMIT_BYTES } from '../../src/http/body.ts';
import { ERROR_TYPES } from '../../src/http/openapi.ts';
import { paramsJsonSchema } from '../../src/declarations/catalog.ts';
import { SUPPORTED_QUERIES } from '../../src/declarations/index.ts';
import { EPOCH_MS_MAX, EPOCH_MS_MIN, MAX_WINDOW_DAYS } from '../../src/rollup/window.ts';
import { COUNTRIES, ENVIRONMENTS } from '../../src/seed/universe.ts';
import { RawStatsBody } from '../../src/raw/raw-stats.ts';
import { ACCESS, RUNS_TOPIC, type User } from './http.ts';

// ---------------------------------------------------------------------------------------------
// JSON text, including what JSON.stringify cannot spell

/** A JSON text fragment written verbatim: numbers JSON.stringify cannot spell (-0, 1e400, 2^53 + 1), nesting built as text. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON text of a value: own keys in order, `__proto__` included, RawJson verbatim. Lone surrogates come out escaped. */
export function jsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .map((k) => `${JSON.stringify(k)}:${jsonText((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A copy of `obj` with `key` set as an own property, even `__proto__`. */
function withKey(obj: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of [...Object.keys(obj), key]) {
    Object.defineProperty(out, k, { value: k === key ? value : obj[k], enumerable: true, writable: true, configurable: true });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The dictionary of known-bad values

const NUMBERS_AS_TEXT = ['-0', '1e400', '-1e400', '1e-400', '9007199254740993', '-9007199254740993', '123456789012345678901234567890', '1.5', '1E2', '0.1e1', '2147483648', String(EPOCH_MS_MAX + 1), String(EPOCH_MS_MIN - 1), '8.7e15'];

export const BAD_STRINGS: readonly string[] = Object.freeze([
  '\u0000',
  'tenant-01\u0000',
  '\ud800',
  '\udfff',
  'x\udbff',
  '\udc00x',
  '\u{1F600}',
  '',
  ' ',
  '\u202e\u200b',
  'x'.repeat(256),
  "'; DROP TABLE x; --",
  '%00',
  '$1',
  '.*',
  '[^]',
  'tenant-0[0-4]',
]);

/** Values that break a rule somewhere: wrong types, bounds just outside, odd numbers and strings. */
const badValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...NUMBERS_AS_TEXT).map((t) => new RawJson(t)),
  fc.constantFrom(...BAD_STRINGS),
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1001, 367, 1.5, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, [], {}, [[]], [null], ['a', 'a'], ['day'], 'day', '1'),
  fc.constantFrom(...BAD_STRINGS).map((s) => [s]),
);

export const BAD_KEYS: readonly string[] = Object.freeze(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', '', ' ', 'k\u0000', '\ud800', 'x'.repeat(300), 'LIMIT', 'limit ', 'days.0']);

/** Whole bodies that are not a JSON object, or not JSON at all. */
const ODD_DOCUMENTS: readonly string[] = Object.freeze([
  '',
  'null',
  'true',
  '0',
  '"text"',
  '[]',
  '[{}]',
  '{',
  '{"limit":}',
  '{"limit" 1}',
  "{'limit':1}",
  '{"limit":1,}',
  '{"limit":1}{"limit":2}',
  'NaN',
  '\u0000',
  '\ufeff{}',
  '{"a":"\\ud800"}',
  '{"tenant_id":"\\u0000"}',
  '{"__proto__":{"limit":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '{"limit":1,"limit":2}',
  '{"days":1e400}',
  '{"timestamp_start":-0,"timestamp_end":-0}',
]);

/** Bodies too large to keep in a case: built when sent, by name. */
const LARGE_BODIES = {
  'string-1mb': () => `{"tenant_id":"${'x'.repeat(1 << 20)}"}`,
  'nested-arrays-10k': () => `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
  'nested-objects-10k': () => `{"x":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`,
  'nested-filter-10k': () => `{"tenant_id":${'['.repeat(10_000)}"a"${']'.repeat(10_000)}}`,
  'nested-arrays-100k': () => `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
  'array-10k-strings': () => JSON.stringify({ tenant_id: Array(10_000).fill('a') }),
  'array-15k-bad-group-by': () => JSON.stringify({ group_by: Array(15_000).fill(1) }),
  'array-1m': () => `[${Array(1_000_000).fill('1').join(',')}]`,
  'keys-5k': () => JSON.stringify(Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, i]))),
  'at-limit': () => `{"padding":"${'x'.repeat(BODY_LIMIT_BYTES - '{"padding":""}'.length)}"}`,
  'over-limit': () => `{"padding":"${'x'.repeat(BODY_LIMIT_BYTES + 1 - '{"padding":""}'.length)}"}`,
  'gzip-bomb': () => `{"padding":"${'0'.repeat(10 << 20)}"}`,
} as const satisfies Record<string, () => string>;
export type LargeBody = keyof typeof LARGE_BODIES;

// ---------------------------------------------------------------------------------------------
// Bodies steered by the routes' zod schemas

type JsonSchema = {
  type?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
};

const DAY_MS = 86_400_000;
const FILTER_VALUES = ['tenant-01', 'tenant-02', 'tenant-03', 'tenant-07', 'Tenant-ACME', ...ENVIRONMENTS, ...COUNTRIES, 'ZZ'];

/** Epoch ms mostly near `now` (where the seeded rows are), sometimes anywhere the rule allows. */
function epochMs(now: number, s: JsonSchema): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: now - 40 * DAY_MS, max: now + DAY_MS }) },
    { weight: 1, arbitrary: fc.integer({ min: s.minimum ?? EPOCH_MS_MIN, max: s.maximum ?? EPOCH_MS_MAX }) },
  );
}

/** An arbitrary of values valid for a JSON Schema generated from a route's zod schema (the subset they use). */
function fromSchema(s: JsonSchema, now: number, name = ''): fc.Arbitrary<unknown> {
  if (s.anyOf) return fc.oneof(...s.anyOf.map((x) => fromSchema(x, now, name)));
  if (s.enum) return fc.constantFrom(...s.enum);
  switch (s.type) {
    case 'null':
      return fc.constant(null);
    case 'integer':
      if (name.startsWith('timestamp_')) return epochMs(now, s);
      return fc.integer({ min: Math.max(s.minimum ?? -1e6, Number.MIN_SAFE_INTEGER), max: Math.min(s.maximum ?? 1e6, 2_000) });
    case 'string':
      return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...FILTER_VALUES) }, { weight: 1, arbitrary: fc.string({ maxLength: Math.min(s.maxLength ?? 40, 40) }) });
    case 'array': {
      const items = s.items ?? {};
      const size = { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 5, 5) };
      // An enum's items are distinct (group_by), as its rule requires.
      return items.enum ? fc.uniqueArray(fc.constantFrom(...items.enum), size) : fc.array(fromSchema(items, now, name), size);
    }
    case 'object': {
      const props = s.properties ?? {};
      const shape = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, fromSchema(v, now, k)]));
      return fc.record(shape, { requiredKeys: [] });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A body the schema accepts, nudged towards windows that are valid as a whole (days alone, or a window of at most 366 days). */
function validBody(schema: JsonSchema, now: number): fc.Arbitrary<Record<string, unknown>> {
  return (fromSchema(schema, now) as fc.Arbitrary<Record<string, unknown>>).map((body) => {
    const out = { ...body };
    if (out.days !== undefined && (out.timestamp_start !== undefined || out.timestamp_end !== undefined)) delete out.days;
    const [s, e] = [out.timestamp_start, out.timestamp_end];
    if (typeof s === 'number' && typeof e === 'number' && (s > e || e - s > MAX_WINDOW_DAYS * DAY_MS)) out.timestamp_end = Math.min(s + 3 * DAY_MS, EPOCH_MS_MAX);
    return out;
  });
}

/** A valid body with one thing broken: a field given a bad value, an unknown key, or its shape changed. */
function nearValidBody(schema: JsonSchema, now: number): fc.Arbitrary<unknown> {
  const fields = Object.keys(schema.properties ?? {});
  return fc.oneof(
    fc.tuple(validBody(schema, now), fc.constantFrom(...fields), badValue).map(([b, k, v]) => withKey(b, k, v)),
    fc.tuple(validBody(schema, now), fc.constantFrom(...BAD_KEYS), badValue).map(([b, k, v]) => withKey(b, k, v)),
    fc.tuple(validBody(schema, now), fc.constantFrom(...fields)).map(([b, k]) => withKey(b, k, b[k] === undefined ? 'x' : [b[k]])),
    validBody(schema, now).map((b) => [b]),
  );
}

// ---------------------------------------------------------------------------------------------
// Requests

export type TokenKind =
  | User
  | 'alice-bare-header'
  | 'none'
  | 'expired'
  | 'not-yet-valid'
  | 'foreign-key'
  | 'alg-none'
  | 'hs256'
  | 'no-sub'
  | 'alice-unknown-kid'
  | 'garbage'
  | 'basic'
  | 'empty-bearer'
  | 'huge';

/** The user a token proves, if it proves one. */
export const VALID_TOKENS: Readonly<Partial<Record<TokenKind, User>>> = Object.freeze({
  alice: 'alice',
  carol: 'carol',
  bob: 'bob',
  'alice-bare-header': 'alice',
  // A kid is a hint: the upstream key format names no kid, so a token signed by the key verifies whatever its kid says.
  'alice-unknown-kid': 'alice',
});

export type Encoding = 'gzip' | 'deflate' | 'br' | 'broken-gzip' | 'compress' | 'identity' | 'gzip, gzip';

export type BodySpec =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'bytes'; readonly bytes: readonly number[] }
  | { readonly kind: 'large'; readonly name: LargeBody };

/** Whole requests Node's parser must refuse, or that never reach a route: sent instead of the case's fields. */
const RAW_REQUESTS = {
  garbage: 'hello world\r\n\r\n',
  'no-host': 'GET /health HTTP/1.1\r\n\r\n',
  'http-2.0': 'GET /health HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n',
  'http-0.9': 'GET /health\r\n\r\n',
  'lower-case-method': 'get /health HTTP/1.1\r\nHost: x\r\n\r\n',
  'unknown-method': 'BREW /health HTTP/1.1\r\nHost: x\r\n\r\n',
  'space-in-path': 'GET /hea lth HTTP/1.1\r\nHost: x\r\n\r\n',
  'nul-in-header': 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n',
  'header-without-colon': 'GET /health HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n',
  'header-overflow': `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
  'path-overflow': `GET /stats/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  'content-length-and-chunked': `POST /stats/${RUNS_TOPIC} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}`,
  'two-content-lengths': `POST /stats/${RUNS_TOPIC} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
  'negative-content-length': `POST /stats/${RUNS_TOPIC} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n`,
  'bad-chunk-size': `POST /stats/${RUNS_TOPIC} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
  connect: 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n',
  'absolute-uri': 'GET http://elsewhere.invalid/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  asterisk: 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  'pipelined-garbage': 'GET /health HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n',
  'upgrade-websocket': 'GET /health HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\n\r\n',
} as const satisfies Record<string, string>;
export type RawRequest = keyof typeof RAW_REQUESTS;

export interface FuzzCase {
  readonly method: string;
  /** The request target, sent as it is (percent-encoding and all). */
  readonly path: string;
  readonly token: TokenKind;
  readonly contentType: string | undefined;
  readonly encoding: Encoding | undefined;
  readonly chunked: boolean;
  readonly body: BodySpec | undefined;
  /** A whole request replacing the one the fields above describe. */
  readonly raw: RawRequest | undefined;
}

const TOPIC_NAMES = Object.keys(TOPICS);

/** Path segments that are odd as a topic or a query name. */
const ODD_SEGMENTS: readonly string[] = Object.freeze([
  '',
  '.',
  '..',
  '%2e%2e',
  '..%2F..%2Fetc%2Fpasswd',
  '%00',
  'public.cps.za.runs%00',
  '%ZZ',
  '%E0%A4%A',
  '%C0%AF',
  '%ED%A0%80',
  '%F0%9F%98%80',
  '%25',
  '%2F',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'PUBLIC.CPS.ZA.RUNS',
  'Public.Cps.Za.Runs',
  'public.cps.za.runs%20',
  'public.cps.za.runs.',
  'FAILED_JOBS',
  'failed_jobs%00',
  'a'.repeat(2_000),
  'a;b=c',
  '*',
  '~',
  '%27%3B--',
  '%3Cscript%3E',
]);

const RAW_SCHEMA = z.toJSONSchema(RawStatsBody, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
const QUERY_STRINGS = ['', '', '', '?limit=5', '?__proto__[polluted]=1', '?a=%ZZ', `?${'a=1&'.repeat(2_000)}`, '?', '#frag'];

function pathArb(): fc.Arbitrary<{ path: string; target: 'query' | 'raw' | 'other'; schema?: JsonSchema }> {
  const topic = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...TOPIC_NAMES) }, { weight: 1, arbitrary: fc.constantFrom(...ODD_SEGMENTS) });
  const segment = fc.oneof(fc.constantFrom(...ODD_SEGMENTS), fc.webSegment());
  const query = fc.constantFrom(...SUPPORTED_QUERIES);
  const qs = fc.constantFrom(...QUERY_STRINGS);
  return fc.oneof(
    { weight: 8, arbitrary: fc.tuple(query, qs).map(([q, s]) => ({ path: `/stats/${q.topic}/query/${q.name}${s}`, target: 'query' as const, schema: paramsJsonSchema(q) as JsonSchema })) },
    { weight: 5, arbitrary: qs.map((s) => ({ path: `/stats/${RUNS_TOPIC}${s}`, target: 'raw' as const, schema: RAW_SCHEMA })) },
    {
      weight: 2,
      arbitrary: fc.tuple(topic, fc.oneof(segment, fc.constantFrom(...SUPPORTED_QUERIES.map((q) => q.name)))).map(([t, name]) => ({ path: `/stats/${t}/query/${name}`, target: 'other' as const })),
    },
    { weight: 2, arbitrary: topic.map((t) => ({ path: `/stats/${t}`, target: 'other' as const })) },
    { weight: 1, arbitrary: topic.map((t) => ({ path: `/stats/${t}/queries`, target: 'other' as const })) },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom('/health', '/api', '/', '/stats', '/stats/', '//stats/public.cps.za.runs', '/stats/public.cps.za.runs/query', '/stats/public.cps.za.runs/query/failed_jobs/extra', '/stats/public.cps.za.runs/./query/failed_jobs', '/health/../stats/public.cps.za.runs', '/HEALTH', '/api/', '/nope', '/stats/public.cps.za.runs/queries/x')
        .map((p) => ({ path: p, target: 'other' as const })),
    },
    { weight: 1, arbitrary: fc.webPath().map((p) => ({ path: p.startsWith('/') ? p : `/${p}`, target: 'other' as const })) },
  );
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH', 'PURGE'];
const CONTENT_TYPES = ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16le', 'application/json; charset=latin1', 'application/json; charset="utf-8"', 'application/json; charset=utf-7', ';;;', `application/${'x'.repeat(1_000)}`];
const ENCODINGS: Encoding[] = ['gzip', 'deflate', 'br', 'broken-gzip', 'compress', 'identity', 'gzip, gzip'];
const INVALID_TOKENS: TokenKind[] = ['none', 'expired', 'not-yet-valid', 'foreign-key', 'alg-none', 'hs256', 'no-sub', 'garbage', 'basic', 'empty-bearer', 'huge'];

function bodyArb(target: 'query' | 'raw' | 'other', schema: JsonSchema | undefined, now: number): fc.Arbitrary<BodySpec | undefined> {
  const json = (a: fc.Arbitrary<unknown>) => a.map((value): BodySpec => ({ kind: 'json', value }));
  const odd: fc.Arbitrary<BodySpec | undefined>[] = [
    json(fc.jsonValue({ maxDepth: 3 })),
    fc.constantFrom(...ODD_DOCUMENTS).map((text): BodySpec => ({ kind: 'text', text })),
    fc.constantFrom(...(Object.keys(LARGE_BODIES) as LargeBody[])).map((name): BodySpec => ({ kind: 'large', name })),
    fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 20 }).map((bytes): BodySpec => ({ kind: 'bytes', bytes: [0x7b, ...bytes, 0x7d] })),
  ];
  if (target === 'other' || schema === undefined) return fc.oneof(fc.constant(undefined), ...odd);
  return fc.oneof(
    { weight: 8, arbitrary: json(validBody(schema, now)) },
    { weight: 5, arbitrary: json(nearValidBody(schema, now)) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    ...odd.map((arbitrary) => ({ weight: 1, arbitrary })),
  );
}

/** One request of the fuzz. `now`: the server's clock, so windows land where the data is. */
export function fuzzCase(now: number): fc.Arbitrary<FuzzCase> {
  const structured = pathArb().chain(({ path, target, schema }) =>
    fc.record({
      method: target === 'other' ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom('GET', 'POST') }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }) : fc.oneof({ weight: 12, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
      path: fc.constant(path),
      token: fc.oneof(
        { weight: 10, arbitrary: fc.constant<TokenKind>('alice') },
        { weight: 2, arbitrary: fc.constantFrom<TokenKind>('carol', 'bob', 'alice-bare-header', 'alice-unknown-kid') },
        { weight: 4, arbitrary: fc.constantFrom(...INVALID_TOKENS) },
      ),
      contentType: fc.oneof({ weight: 12, arbitrary: fc.constant('application/json') }, { weight: 2, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) }),
      encoding: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...ENCODINGS) }),
      chunked: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      body: bodyArb(target, schema, now),
      raw: fc.constant(undefined),
    }),
  );
  const raw = fc.constantFrom(...(Object.keys(RAW_REQUESTS) as RawRequest[])).map(
    (name): FuzzCase => ({ method: 'GET', path: '/', token: 'none', contentType: undefined, encoding: undefined, chunked: false, body: undefined, raw: name }),
  );
  return fc.oneof({ weight: 19, arbitrary: structured }, { weight: 1, arbitrary: raw });
}

// ---------------------------------------------------------------------------------------------
// Tokens

/** The Authorization (or bare `bearer`) header of each kind of token, signed with the server's key where it should verify. */
export class Tokens {
  private readonly made = new Map<TokenKind, [string, string] | undefined>();
  private foreignKey: string | undefined;

  constructor(private readonly privateKeyPem: string) {}

  header(kind: TokenKind): [string, string] | undefined {
    if (!this.made.has(kind)) this.made.set(kind, this.make(kind));
    return this.made.get(kind);
  }

  private sign(claims: Record<string, unknown>, options: jwt.SignOptions = {}, key = this.privateKeyPem): string {
    return jwt.sign(claims, key, { algorithm: 'RS256', ...options });
  }

  private make(kind: TokenKind): [string, string] | undefined {
    const now = Math.floor(Date.now() / 1000);
    const bearer = (token: string): [string, string] => ['Authorization', `Bearer ${token}`];
    switch (kind) {
      case 'alice':
      case 'carol':
      case 'bob':
        return bearer(this.sign({ sub: kind }, { expiresIn: 3600 }));
      case 'alice-bare-header':
        return ['bearer', this.sign({ sub: 'alice' }, { expiresIn: 3600 })];
      case 'none':
        return undefined;
      case 'expired':
        return bearer(this.sign({ sub: 'alice', exp: now - 60 }));
      case 'not-yet-valid':
        return bearer(this.sign({ sub: 'alice', nbf: now + 3600, exp: now + 7200 }));
      case 'foreign-key':
        this.foreignKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
        return bearer(this.sign({ sub: 'alice' }, { expiresIn: 3600 }, this.foreignKey));
      case 'alg-none':
        return bearer(`${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(`{"sub":"alice","exp":${now + 3600}}`).toString('base64url')}.`);
      case 'hs256':
        return bearer(jwt.sign({ sub: 'alice' }, 'not-the-key', { algorithm: 'HS256', expiresIn: 3600 }));
      case 'no-sub':
        return bearer(this.sign({ name: 'alice' }, { expiresIn: 3600 }));
      case 'alice-unknown-kid':
        return bearer(this.sign({ sub: 'alice' }, { expiresIn: 3600, keyid: 'no-such-kid' }));
      case 'garbage':
        return bearer('abc.def.ghi');
      case 'basic':
        return ['Authorization', `Basic ${Buffer.from('alice:secret').toString('base64')}`];
      case 'empty-bearer':
        return ['Authorization', 'Bearer '];
      case 'huge':
        return bearer('a'.repeat(8_000));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sending

function encode(body: Buffer, encoding: Encoding | undefined): Buffer {
  switch (encoding) {
    case 'gzip':
      return gzipSync(body);
    case 'deflate':
      return deflateSync(body);
    case 'br':
      return brotliCompressSync(body);
    case 'broken-gzip':
      return Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), body]);
    default:
      return body; // compress, identity, 'gzip, gzip': sent as they are, for the server to refuse or accept
  }
}

function bodyBytes(spec: BodySpec): Buffer {
  switch (spec.kind) {
    case 'json':
      return Buffer.from(jsonText(spec.value));
    case 'text':
      return Buffer.from(spec.text);
    case 'bytes':
      return Buffer.from(spec.bytes);
    case 'large':
      return Buffer.from(LARGE_BODIES[spec.name]());
  }
}

/** The bytes of a case's request. */
export function requestBytes(c: FuzzCase, tokens: Tokens): Buffer {
  if (c.raw !== undefined) return Buffer.from(RAW_REQUESTS[c.raw], 'latin1');
  const headers: [string, string][] = [['Host', '127.0.0.1'], ['Connection', 'close']];
  const auth = tokens.header(c.token);
  if (auth) headers.push(auth);
  if (c.contentType !== undefined) headers.push(['Content-Type', c.contentType]);
  let body: Buffer | undefined;
  if (c.body !== undefined) {
    // The bomb is only a bomb compressed.
    const encoding = c.body.kind === 'large' && c.body.name === 'gzip-bomb' ? 'gzip' : c.encoding;
    body = encode(bodyBytes(c.body), encoding);
    if (encoding !== undefined) headers.push(['Content-Encoding', encoding === 'broken-gzip' ? 'gzip' : encoding]);
    if (c.chunked) {
      headers.push(['Transfer-Encoding', 'chunked']);
      const size = 16_384;
      const chunks: Buffer[] = [];
      for (let i = 0; i < body.length; i += size) {
        const part = body.subarray(i, i + size);
        chunks.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n'));
      }
      body = Buffer.concat([...chunks, Buffer.from('0\r\n\r\n')]);
    } else {
      headers.push(['Content-Length', String(body.length)]);
    }
  }
  const head = `${c.method} ${c.path} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  // latin1: a header or path holding a non-ASCII character goes out byte for byte, as a hostile client would send it.
  return body === undefined ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

export interface Response {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface Answer {
  /** The responses in the order they came (a pipelined request may get two); empty when none came. */
  readonly responses: readonly Response[];
  readonly requestBytes: number;
  /** Why no (complete) response came, if none did. */
  readonly failure?: string;
}

function dechunk(data: Buffer): { body: Buffer; rest: Buffer } {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) return { body: Buffer.concat(parts), rest: Buffer.alloc(0) };
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size)) return { body: Buffer.concat(parts), rest: Buffer.alloc(0) };
    if (size === 0) return { body: Buffer.concat(parts), rest: data.subarray(data.indexOf('\r\n\r\n', eol) + 4) };
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** Every response in `data`, as far as they are complete. 1xx interim responses are skipped. */
export function parseResponses(data: Buffer, method: string): Response[] {
  const out: Response[] = [];
  let rest: Buffer = data;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine = '', ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!match) break;
    const status = Number(match[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let after: Buffer = rest.subarray(end + 4);
    let body: Buffer = Buffer.alloc(0);
    if (status >= 200 && method !== 'HEAD') {
      if (headers['transfer-encoding'] === 'chunked') ({ body, rest: after } = dechunk(after));
      else if (headers['content-length'] !== undefined) {
        const n = Number(headers['content-length']);
        body = after.subarray(0, n);
        after = after.subarray(n);
      } else {
        body = after;
        after = Buffer.alloc(0);
      }
    }
    if (status >= 200) out.push({ status, headers, body });
    rest = after;
  }
  return out;
}

/** Sends the case over a fresh connection and reads until the server closes it (or `timeoutMs` passes). */
export function send(port: number, c: FuzzCase, tokens: Tokens, timeoutMs = 15_000): Promise<Answer> {
  const bytes = requestBytes(c, tokens);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let failure: string | undefined;
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => {
      failure = `no close within ${timeoutMs} ms`;
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    // A server that answers before reading the whole body may reset the rest: what it sent still counts.
    socket.on('error', (err: NodeJS.ErrnoException) => (failure ??= err.code ?? err.message));
    socket.on('close', () => {
      clearTimeout(timer);
      const responses = parseResponses(Buffer.concat(chunks), c.method);
      resolve({ responses, requestBytes: bytes.length, ...(responses.length === 0 ? { failure: failure ?? 'closed without an answer' } : {}) });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Invariants

/** Whether `user` is listed for `topic` in the test ACL (test/helpers/http.ts). */
export function mayRead(user: User, topic: string): boolean {
  const entry = (ACCESS as Record<string, unknown>)[topic];
  if (Array.isArray(entry)) return entry.includes(user);
  return entry !== undefined && entry !== null && Object.hasOwn(entry, user);
}

/** The topic a /stats path names, as the server reads it (decoded, lower-cased), or undefined. */
function topicOfPath(path: string): string | undefined {
  const m = /^\/stats\/([^/?#]*)/.exec(path);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!).toLowerCase();
  } catch {
    return undefined;
  }
}

/** A 400's message names the field (quoted) or the part of the request (body, path, headers, request), and says the rule. */
const NAMES_FIELD = /'[^']*'|^(body|path|headers|request): \S|^the window must/;
const namesFieldAndRule = (message: string) => NAMES_FIELD.test(message) && message.split(/\s+/).length >= 3;
/** An error answer is at most this much larger than twice the request. */
const ERROR_OVERHEAD_BYTES = 4_096;

/** The invariants a response to `c` breaks; empty when it holds them all. */
export function violations(c: FuzzCase, answer: Answer): string[] {
  if (answer.responses.length === 0) return [`no answer: ${answer.failure}`];
  const out: string[] = [];
  answer.responses.forEach((r, i) => {
    const at = answer.responses.length > 1 ? ` (response ${i + 1})` : '';
    if (r.status >= 500) out.push(`status ${r.status}${at}: never a 5xx (the database is up)`);
    const isHead = c.raw === undefined && c.method === 'HEAD';
    if (r.status >= 400 && !isHead) {
      if (!(r.headers['content-type'] ?? '').startsWith('application/json')) out.push(`status ${r.status}${at}: Content-Type ${r.headers['content-type']}, not JSON`);
      let body: unknown;
      try {
        body = JSON.parse(r.body.toString('utf8'));
      } catch {
        out.push(`status ${r.status}${at}: body is not JSON: ${JSON.stringify(r.body.subarray(0, 200).toString('utf8'))}`);
        return;
      }
      const e = body as { success?: unknown; statusCode?: unknown; errors?: { type?: unknown; message?: unknown }[] };
      const keys = Object.keys(body as object).sort().join(',');
      if (keys !== 'errors,statusCode,success' || e.success !== false || e.statusCode !== r.status || !Array.isArray(e.errors) || e.errors.length === 0) {
        out.push(`status ${r.status}${at}: not the error envelope: ${JSON.stringify(body).slice(0, 300)}`);
        return;
      }
      for (const err of e.errors) {
        if (!(ERROR_TYPES as readonly unknown[]).includes(err.type) || typeof err.message !== 'string' || err.message === '') out.push(`status ${r.status}${at}: bad error ${JSON.stringify(err).slice(0, 300)}`);
        else if (r.status === 400 && (err.type !== 'validation' || !namesFieldAndRule(err.message))) out.push(`400${at}: does not name the field and rule: ${JSON.stringify(err).slice(0, 300)}`);
      }
      if (r.body.length > ERROR_OVERHEAD_BYTES + 2 * answer.requestBytes) out.push(`status ${r.status}${at}: a ${r.body.length}-byte error for a ${answer.requestBytes}-byte request`);
    }
    if (c.raw === undefined && r.status < 300) {
      const topic = topicOfPath(c.path);
      const user = VALID_TOKENS[c.token];
      if (topic !== undefined && (user === undefined || !mayRead(user, topic))) out.push(`status ${r.status}: ${c.token} token answered on topic '${topic}'`);
      if (topic !== undefined && !isHead && (r.headers['content-type'] ?? '').startsWith('application/json')) {
        const b = JSON.parse(r.body.toString('utf8')) as { success?: unknown; statusCode?: unknown };
        if (b.success !== true || b.statusCode !== r.status) out.push(`status ${r.status}: not the success envelope`);
      }
    }
  });
  return out;
}

/** A case in a few lines, its body cut short, for failure reports. */
export function describeCase(c: FuzzCase): string {
  if (c.raw !== undefined) return `raw request '${c.raw}': ${JSON.stringify(RAW_REQUESTS[c.raw].slice(0, 200))}`;
  const body = c.body === undefined ? '(none)' : c.body.kind === 'large' ? `large body '${c.body.name}'` : c.body.kind === 'json' ? jsonText(c.body.value) : c.body.kind === 'text' ? JSON.stringify(c.body.text) : `bytes ${JSON.stringify(c.body.bytes)}`;
  return [
    `${c.method} ${c.path.length > 300 ? `${c.path.slice(0, 300)}...(${c.path.length} chars)` : c.path}`,
    `token: ${c.token}; content-type: ${c.contentType ?? '(none)'}; encoding: ${c.encoding ?? '(none)'}${c.chunked ? '; chunked' : ''}`,
    `body: ${body.length > 500 ? `${body.slice(0, 500)}...(${body.length} chars)` : body}`,
  ].join('\n');
}
