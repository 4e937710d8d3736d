/**
 * What `npm start` prints once it listens: where to point a browser (the dashboard, the API docs) and
 * curl, and how to get a token for each.
 */
import type { TopicName } from './db/tables.ts';
import { queryPath } from './declarations/route.ts';

const EXAMPLE_TOPIC: TopicName = 'public.cps.za.runs';

export interface BannerOptions {
  /** The base URL the server answers on. */
  readonly base: string;
  /** Whether POST /dev/token exists (the all-in-one mode): the dashboard then has a "Get a dev token" button. */
  readonly devTokenButton: boolean;
  /** The secret POST /dev/token requires (printed here only: whoever reads this output may have tokens). */
  readonly devTokenSecret?: string | undefined;
  /** Whether the dev key pair verifies tokens, so that `npm run token` signs usable ones (never in production). */
  readonly devTokenCli: boolean;
}

export function startBanner(o: BannerOptions): string {
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
