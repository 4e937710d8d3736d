/**
 * GET /docs: Swagger UI on the OpenAPI document of GET /api, every file served by this process from
 * swagger-ui-dist (no CDN). Only the initializer is ours: it points Swagger UI at /api instead of the
 * petstore and turns off the validator badge, which would call validator.swagger.io. "Authorize"
 * takes a bearer token (the document's bearerAuth scheme), and "Try it out" sends it.
 */
import express, { Router } from 'express';
import { OPENAPI_PATH } from "../openapi.js";
import { pageHeaders } from "../page-headers.js";
export const DOCS_PATH = '/docs';
const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(OPENAPI_PATH)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
  });
};
`;
/** `swaggerUiDir`: swagger-ui-dist's folder (PageAssets.swaggerUi). */
export function docsRoutes(swaggerUiDir) {
    const router = Router();
    router.use(DOCS_PATH, pageHeaders);
    // Before the static files, which hold the petstore's initializer under the same name.
    router.get(`${DOCS_PATH}/swagger-initializer.js`, (_req, res) => {
        res.type('text/javascript').send(INITIALIZER);
    });
    // GET /docs redirects to /docs/, where index.html's relative links resolve.
    router.use(DOCS_PATH, express.static(swaggerUiDir));
    return router;
}
//# sourceMappingURL=docs.js.map