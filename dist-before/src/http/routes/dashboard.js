/**
 * GET /dashboard: one static page (src/http/dashboard/) that calls the public API only, with uPlot
 * served from node_modules; no build step. The page asks config.json whether this process hands out
 * development tokens (the all-in-one mode's POST /dev/token) to show its "Get a dev token" button.
 */
import express, { Router } from 'express';
import { pageHeaders } from "../page-headers.js";
import { DEV_TOKEN_PATH } from "./dev-token.js";
export const DASHBOARD_PATH = '/dashboard';
export function dashboardRoutes(options) {
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
//# sourceMappingURL=dashboard.js.map