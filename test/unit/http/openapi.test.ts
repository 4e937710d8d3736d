/**
 * The OpenAPI document is generated from the registry and the request schemas, so these checks pin
 * its shape rather than its text: it is 3.1, self-contained, and lists exactly what the routes accept.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { expect } from 'chai';
import type { OpenAPIV3_1 } from 'openapi-types';
import { z } from 'zod';
import { BODY_LIMIT_BYTES } from '../../../src/http/body.ts';
import { FORMAT_JSON_SCHEMA } from '../../../src/http/format.ts';
import { ERROR_TYPES, openApiDocument, queryPath } from '../../../src/http/openapi.ts';
import { paramsJsonSchema } from '../../../src/declarations/catalog.ts';
import { SUPPORTED_QUERIES } from '../../../src/declarations/index.ts';
import { RAW_STATS_COLUMNS, RawStatsBody } from '../../../src/raw/raw-stats.ts';

type Json = Record<string, unknown>;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every value under `key` anywhere in the tree. */
function collect(node: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(node)) node.forEach((n) => collect(n, key, out));
  else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === key) out.push(v);
      collect(v, key, out);
    }
  }
  return out;
}

function resolvePointer(doc: unknown, ref: string): unknown {
  const segments = ref.slice(2).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  return segments.reduce<unknown>((node, s) => (isObject(node) ? node[s] : undefined), doc);
}

function at(doc: unknown, ...path: string[]): unknown {
  return path.reduce<unknown>((node, s) => (isObject(node) ? node[s] : undefined), doc);
}

function operations(doc: Json): [string, string, Json][] {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, op]): [string, string, Json] => [path, method, op as Json]),
  );
}

describe('the OpenAPI document', () => {
  const doc = openApiDocument();

  it('is OpenAPI 3.1.0 with an info block', () => {
    expect(doc.openapi).to.equal('3.1.0');
    expect(at(doc, 'info', 'title')).to.be.a('string');
    expect(at(doc, 'info', 'version')).to.be.a('string');
  });

  it('passes a real validator: @apidevtools/swagger-parser checks it against the OpenAPI 3.1 schema and resolves its $refs', async () => {
    // validate() dereferences in place: it gets a copy, never the served (frozen) document.
    const copy = structuredClone(doc) as unknown as OpenAPIV3_1.Document;
    const validated = (await SwaggerParser.validate(copy)) as OpenAPIV3_1.Document;
    expect(validated.openapi).to.equal('3.1.0');
    expect(Object.keys(validated.paths ?? {})).to.deep.equal(Object.keys(doc.paths as Json));
  });

  it('is built once and shared', () => {
    expect(openApiDocument()).to.equal(doc);
    expect(Object.isFrozen(doc)).to.equal(true);
  });

  it('resolves every $ref within itself', () => {
    const refs = collect(doc, '$ref');
    expect(refs).to.have.length.greaterThan(0);
    for (const r of refs) {
      expect(r, String(r)).to.be.a('string').that.matches(/^#\//);
      expect(resolvePointer(doc, r as string), String(r)).to.not.equal(undefined);
    }
  });

  it('declares every templated path parameter, and gives each operation an id and responses', () => {
    const ids = new Set<string>();
    for (const [path, method, op] of operations(doc)) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = ((op.parameters as Json[] | undefined) ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      expect(declared, `${method} ${path}`).to.have.members(templated);
      expect(op.operationId, `${method} ${path}`).to.be.a('string');
      ids.add(op.operationId as string);
      expect(Object.keys(op.responses as Json), `${method} ${path}`).to.include('200');
    }
    expect(ids.size, 'operationIds are unique').to.equal(operations(doc).length);
  });

  it('documents health, the raw endpoint, the catalog and itself', () => {
    expect(at(doc, 'paths', '/health', 'get')).to.be.an('object');
    expect(at(doc, 'paths', '/api', 'get')).to.be.an('object');
    expect(at(doc, 'paths', '/stats/{topic_name}', 'post')).to.be.an('object');
    expect(at(doc, 'paths', '/stats/{topic_name}/queries', 'get')).to.be.an('object');
  });

  it('lists every compiled query at its own path', () => {
    const queryPaths = Object.keys(doc.paths as Json).filter((p) => p.includes('/query/'));
    expect(queryPaths).to.have.members(SUPPORTED_QUERIES.map(queryPath));
    expect(queryPath(SUPPORTED_QUERIES[0]!)).to.equal('/stats/public.cps.za.runs/query/failed_jobs');
  });

  for (const query of SUPPORTED_QUERIES) {
    describe(`for ${query.topic} ${query.name}`, () => {
      const op = () => at(doc, 'paths', queryPath(query), 'post');

      it('takes the request body schema the query validates with, plus format', () => {
        const schema = at(op(), 'requestBody', 'content', 'application/json', 'schema') as Json;
        const { format, ...params } = schema.properties as Json;
        expect({ ...schema, properties: params }).to.deep.equal(paramsJsonSchema(query));
        expect(format).to.deep.equal(FORMAT_JSON_SCHEMA);
      });

      it('has a GET taking the same parameters in the query string, lists as repeated keys or comma lists', () => {
        const get = at(doc, 'paths', queryPath(query), 'get') as Json;
        const parameters = get.parameters as Json[];
        const body = at(op(), 'requestBody', 'content', 'application/json', 'schema', 'properties') as Json;
        expect(parameters.map((p) => p.name)).to.deep.equal(Object.keys(body));
        for (const p of parameters) {
          expect(p, String(p.name)).to.include({ in: 'query', required: false });
          expect(p.schema, String(p.name)).to.deep.equal(body[p.name as string]);
          const list = JSON.stringify(p.schema).includes('"type":"array"');
          expect(p.style === 'form' && p.explode === true, String(p.name)).to.equal(list);
        }
        expect(get.security).to.deep.equal(at(op(), 'security'));
        expect(at(get, 'responses', '200', 'content', 'application/json')).to.deep.equal(at(op(), 'responses', '200', 'content', 'application/json'));
      });

      it('answers JSON or CSV with ETag, Cache-Control and Vary, and 304 on a matching If-None-Match, by GET and POST', () => {
        for (const method of ['get', 'post']) {
          const operation = at(doc, 'paths', queryPath(query), method);
          expect(Object.keys(at(operation, 'responses', '200', 'content') as Json), method).to.have.members(['application/json', 'text/csv']);
          for (const status of ['200', '304']) {
            expect(Object.keys(at(operation, 'responses', status, 'headers') as Json), `${method} ${status}`).to.include.members(['ETag', 'Cache-Control', 'Vary']);
          }
        }
      });

      it('answers rows whose items list its output columns', () => {
        const row = at(op(), 'responses', '200', 'content', 'application/json', 'schema', 'properties', 'data', 'items');
        const fixed = query.columns.filter((c) => !c.name.startsWith('<')).map((c) => c.name);
        expect(Object.keys(at(row, 'properties') as Json)).to.deep.equal(fixed);
        expect(at(row, 'required')).to.deep.equal(fixed);
        const grouped = query.columns.some((c) => c.name.startsWith('<'));
        expect(at(row, 'additionalProperties') !== false, 'open to group_by keys').to.equal(grouped);
      });

      it('requires a bearer token and refers to the shared error responses', () => {
        expect(at(op(), 'security')).to.deep.equal([{ bearerAuth: [] }, { bearerHeader: [] }]);
        for (const status of ['400', '401', '403', '404', '503']) {
          expect(at(op(), 'responses', status, '$ref'), status).to.be.a('string');
        }
      });
    });
  }

  it('takes the raw endpoint body schema from RawStatsBody, plus format', () => {
    const schema = at(doc, 'paths', '/stats/{topic_name}', 'post', 'requestBody', 'content', 'application/json', 'schema') as Json;
    const { format, ...fields } = schema.properties as Json;
    expect({ ...schema, properties: fields }).to.deep.equal(z.toJSONSchema(RawStatsBody, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }));
    expect(format).to.deep.equal(FORMAT_JSON_SCHEMA);
  });

  it("lists the raw row's fields in the order of its CSV columns", () => {
    const row = at(doc, 'paths', '/stats/{topic_name}', 'post', 'responses', '200', 'content', 'application/json', 'schema', 'properties', 'data', 'items', 'properties');
    expect(Object.keys(row as Json)).to.deep.equal(RAW_STATS_COLUMNS.map((c) => c.name));
  });

  it('describes the error envelope once, with every error type', () => {
    expect(at(doc, 'components', 'schemas', 'ErrorEnvelope', 'required')).to.deep.equal(['success', 'statusCode', 'errors']);
    expect(at(doc, 'components', 'schemas', 'Error', 'properties', 'type', 'enum')).to.deep.equal([...ERROR_TYPES]);
    for (const name of ['BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'Unavailable']) {
      expect(at(doc, 'components', 'responses', name, 'content', 'application/json', 'schema')).to.deep.equal({ $ref: '#/components/schemas/ErrorEnvelope' });
    }
  });

  it('documents 413 with the body limit the parser applies, and 408, on every POST route', () => {
    const posts = Object.entries(at(doc, 'paths') as Record<string, { post?: unknown }>).filter(([, item]) => item.post !== undefined);
    expect(posts.map(([p]) => p)).to.include('/stats/{topic_name}');
    expect(posts).to.have.length(SUPPORTED_QUERIES.length + 1);
    for (const [path] of posts) {
      expect(at(doc, 'paths', path, 'post', 'responses', '413'), path).to.deep.equal({ $ref: '#/components/responses/PayloadTooLarge' });
      expect(at(doc, 'paths', path, 'post', 'responses', '408'), path).to.deep.equal({ $ref: '#/components/responses/RequestTimeout' });
    }
    expect(at(doc, 'components', 'responses', 'PayloadTooLarge', 'description')).to.include(`(${BODY_LIMIT_BYTES} bytes`);
  });

  it('announces Retry-After on 503 answers', () => {
    expect(at(doc, 'components', 'responses', 'Unavailable', 'headers', 'Retry-After')).to.deep.equal({ $ref: '#/components/headers/RetryAfter' });
    expect(at(doc, 'paths', '/health', 'get', 'responses', '503', 'headers', 'Retry-After')).to.be.an('object');
  });

  it('declares bearer JWT security, and none on /health and /api', () => {
    expect(at(doc, 'components', 'securitySchemes', 'bearerAuth')).to.include({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(at(doc, 'paths', '/health', 'get', 'security')).to.deep.equal([]);
    expect(at(doc, 'paths', '/api', 'get', 'security')).to.deep.equal([]);
  });
});
