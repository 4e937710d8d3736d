/**
 * The shape of a compiled query's route, written once: the pattern Express mounts, the literal path
 * of one query (OpenAPI, the start banner, tests), and the query a request path names (the metrics'
 * label). The dashboard's script (src/http/dashboard/dashboard.js) runs in the browser and spells it
 * itself; its browser test drives it through these paths.
 */
import type { CompiledQuery } from './types.ts';

/** Express's pattern for POST and GET of a compiled query. */
export const QUERY_ROUTE = '/stats/:topic_name/query/:query_name';

/** The literal path of a compiled query. */
export function queryPath(query: Pick<CompiledQuery, 'topic' | 'name'>): string {
  return `/stats/${query.topic}/query/${query.name}`;
}

/** The query name a request path (query string and one trailing slash ignored) gives, or undefined when it is not a query's route. */
export function queryNameOfPath(url: string): string | undefined {
  const parts = url.split('?')[0]!.replace(/(.)\/$/, '$1').split('/');
  return parts.length === 5 && parts[1] === 'stats' && parts[3] === 'query' ? parts[4] : undefined;
}
