/**
 * GET /dashboard: one static page (src/http/dashboard/) that calls the public API only, with uPlot
 * served from node_modules; no build step. The page asks config.json whether this process hands out
 * development tokens (the all-in-one mode's POST /dev/token) to show its "Get a dev token" button.
 */
import express, { Router } from 'express';
import type { PageAssets } from '../page-assets.ts';
import { pageHeaders } from '../page-headers.ts';
import { DEV_TOKEN_PATH } from './dev-token.ts';

export const DASHBOARD_PATH = '/dashboard';

export interface DashboardOptions {
  readonly assets: Pick<PageAssets, 'dashboard' | 'uplot'>;
  /** Whether POST /dev/token is mounted. */
  readonly devTokens: boolean;
}

export function dashboardRoutes(options: DashboardOptions): Router {
  const router = Router();
  router.use(DASHBOARD_PATH, pageHeaders);
  router.get(`${DASHBOARD_PATH}/config.json`, (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ dev_token_path: options.devTokens ? DEV_TOKEN_PATH : null });
  });
  router.use(`${DASHBOARD_PATH}/vendor/uplot`, express.static(options.assets.uplot, { index: false }));
  // GET /dashboard redirects to /dashboard/, where index.html's relative links resolve.
  router.use(DASHBOARD_PATH, express.static(options.assets.dashboard));
  return router;
}
