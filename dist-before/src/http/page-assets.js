/**
 * Where the browser pages' files are on disk: Swagger UI (swagger-ui-dist), uPlot, and the dashboard's
 * own files next to this module. Resolved by the Node entry (src/server.ts) and handed to createApp;
 * the Lambda bundle ships none of these files, so it does not import this module and serves no pages.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import getAbsoluteFSPath from 'swagger-ui-dist/absolute-path.js';
export function pageAssets() {
    return {
        swaggerUi: getAbsoluteFSPath(),
        // uplot's main is dist/uPlot.cjs.js; the browser takes uPlot.esm.js from the same folder.
        uplot: path.dirname(createRequire(import.meta.url).resolve('uplot')),
        dashboard: fileURLToPath(new URL('./dashboard/', import.meta.url)),
    };
}
//# sourceMappingURL=page-assets.js.map