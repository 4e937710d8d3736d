import { queryPath } from "./declarations/route.js";
const EXAMPLE_TOPIC = 'public.cps.za.runs';
export function startBanner(o) {
    const token = o.devTokenCli ? 'npm run -s token -- alice' : undefined;
    const dashboardHint = o.devTokenButton ? 'its "Get a dev token" button signs one for alice' : 'paste a bearer token';
    // In the fragment, which the browser never sends: the dashboard hands it to POST /dev/token itself.
    const dashboard = o.devTokenButton && o.devTokenSecret ? `${o.base}/dashboard/#dev-secret=${o.devTokenSecret}` : `${o.base}/dashboard/`;
    const docsHint = token ? `Authorize with the token of: ${token}` : 'Authorize with a bearer token';
    return [
        '',
        `EventStats listening on ${o.base}`,
        `  dashboard  ${dashboard}  (${dashboardHint})`,
        `  API docs   ${o.base}/docs/  (${docsHint})`,
        ...(dashboard !== `${o.base}/dashboard/` ? [`  dev token  curl -X POST -H "X-Dev-Token-Secret: ${o.devTokenSecret}" ${o.base}/dev/token  (this start's secret)`] : []),
        `  curl ${o.base}/health`,
        token ? `  TOKEN=$(${token})` : '  TOKEN=<a token from your identity provider>',
        `  curl -X POST -H "Authorization: Bearer $TOKEN" ${o.base}${queryPath({ topic: EXAMPLE_TOPIC, name: 'failed_jobs' })}`,
        `  curl -H "Authorization: Bearer $TOKEN" ${o.base}/stats/${EXAMPLE_TOPIC}/queries`,
        '',
        '',
    ].join('\n');
}
//# sourceMappingURL=start-banner.js.map