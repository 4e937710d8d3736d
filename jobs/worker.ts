/**
 * npm run worker: the scheduled refresh worker, a long-running process beside the API. It only
 * wires config -> worker.start() and SIGTERM -> worker.stop(); jobs/refresh-worker.ts holds the logic.
 * Exit codes: 0 after a clean stop, 2 for bad configuration, 1 when it cannot start or stop.
 * Under a supervisor, run `tsx jobs/worker.ts` itself (tsx passes SIGTERM on to node): npm 11's
 * `npm run` and `npx` exit on SIGTERM without passing it on, which would leave the worker running.
 */
import { describeFailure } from '../src/cli/run.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { createWorker } from './refresh-worker.ts';

/** One line on stderr, never a stack: these are expected failures with a fix in the message. */
function exitWith(code: number, message: string): never {
  process.stderr.write(`worker: ${message}\n`);
  process.exit(code);
}

const config = (() => {
  try {
    return loadConfig();
  } catch (err) {
    return exitWith(2, err instanceof ConfigError ? err.message : String(err));
  }
})();
if (!config.databaseUrl) exitWith(2, 'DATABASE_URL is not set (`npm start` without it runs the worker inside the all-in-one server)');

const log = createLogger(config.logLevel, 'eventstats-worker');
const worker = createWorker({ databaseUrl: config.databaseUrl, refresh: config.refresh, log });

try {
  await worker.start();
} catch (err) {
  // A bad REFRESH_SCHEDULES surfaces here, once the registry is known.
  if (err instanceof ConfigError) exitWith(2, err.message);
  exitWith(1, `cannot start: ${describeFailure(err)}`);
}

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  // `on`, not `once`: supervisors and npx may deliver the signal twice, and the default action of
  // a second one would kill the worker while it lets a refresh finish.
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: no new jobs, letting a running refresh finish');
    worker.stop().then(
      () => process.exit(0),
      (err: unknown) => exitWith(1, `did not stop cleanly: ${describeFailure(err)}`),
    );
  });
}
