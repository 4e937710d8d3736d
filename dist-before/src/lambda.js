/**
 * AWS Lambda entry: the same Express app, wrapped by serverless-http. The app, its pool and its
 * key cache are built on the first invocation and reused by every warm one. An instance serves one
 * request at a time, so its pool holds one connection unless DB_POOL_MAX says otherwise: a thousand
 * instances then hold a thousand sessions (put RDS Proxy or PgBouncer in front at that scale). On
 * SIGTERM (Lambda sends it before ending an instance when an extension is registered) the pool is
 * ended, so its session does not linger until the server notices. No /metrics here (METRICS is
 * ignored): Prometheus cannot reach a Lambda container, and each container would count only its own
 * requests; CloudWatch and the API gateway's metrics cover a Lambda deployment.
 */
import serverless from 'serverless-http';
import { createApp } from "./app.js";
import { tokenRuleWarnings } from "./core/config.js";
import { createLogger } from "./core/log.js";
import { limitHeapGrowth } from "./core/heap.js";
import { createApiRuntime, loadApiConfig } from "./runtime.js";
let ready;
/** What the Lambda changes in the defaults: one connection per instance. */
export const LAMBDA_DEFAULTS = Object.freeze({ DB_POOL_MAX: '1' });
/** The configuration of a Lambda instance: the environment over LAMBDA_DEFAULTS. */
export function lambdaConfig(env) {
    return loadApiConfig(env, LAMBDA_DEFAULTS);
}
async function build() {
    const config = lambdaConfig();
    if (!config.databaseUrl)
        throw new Error('DATABASE_URL is required in Lambda');
    limitHeapGrowth(config.heapGrowingPercent);
    // Synchronous lines: Lambda freezes an instance between invocations and signals it at the end.
    const log = createLogger(config.logLevel, 'eventstats', { sync: true });
    for (const warning of tokenRuleWarnings(config))
        log.warn(warning);
    const runtime = await createApiRuntime(config, config.databaseUrl, log, { metrics: false, inFlight: false });
    shutdownLog = log;
    if (!process.listeners('SIGTERM').includes(onSigterm))
        process.on('SIGTERM', onSigterm);
    return {
        handle: serverless(createApp(runtime.deps)),
        close: () => runtime.close(),
    };
}
/**
 * Ends the pool of a warm container: SIGTERM, and tests. Safe to call more than once. It removes the
 * SIGTERM listener that build() added: a process that closed the handler (a test runner) must get
 * the signal's own effect again.
 */
export async function close() {
    const built = ready;
    ready = undefined;
    process.removeListener('SIGTERM', onSigterm);
    if (built)
        await (await built.catch(() => undefined))?.close();
}
let shutdownLog;
function onSigterm() {
    process.removeListener('SIGTERM', onSigterm);
    const log = shutdownLog;
    void close().then(() => log?.info('lambda instance shutting down: database pool ended'), (err) => log?.error({ err }, 'lambda instance shutting down: ending the database pool failed')).finally(() => {
        // Then the signal's own effect, as if no one had listened (unless someone else does). The line
        // above is already written: the Lambda's logger is synchronous.
        if (process.listenerCount('SIGTERM') === 0)
            process.kill(process.pid, 'SIGTERM');
    });
}
export const handler = async (event, context) => {
    ready ??= build().catch((err) => {
        ready = undefined; // a failed cold start must not poison the warm container
        throw err;
    });
    return (await ready).handle(event, context);
};
//# sourceMappingURL=lambda.js.map