/** Express's pattern for POST and GET of a compiled query. */
export const QUERY_ROUTE = '/stats/:topic_name/query/:query_name';
/** The literal path of a compiled query. */
export function queryPath(query) {
    return `/stats/${query.topic}/query/${query.name}`;
}
/** The query name a request path (query string and one trailing slash ignored) gives, or undefined when it is not a query's route. */
export function queryNameOfPath(url) {
    const parts = url.split('?')[0].replace(/(.)\/$/, '$1').split('/');
    return parts.length === 5 && parts[1] === 'stats' && parts[3] === 'query' ? parts[4] : undefined;
}
//# sourceMappingURL=route.js.map