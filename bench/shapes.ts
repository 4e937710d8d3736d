/**
 * npm run bench:shapes [-- --jobs N] [--database URL] [--smoke] [--seed S] [--out DIR]: the shape
 * sweep of issue 29 (bench/shape-sweep.ts). Without --database: a throwaway embedded PostgreSQL,
 * seeded with N jobs (default 1,000,000). With --database: that database as it is (migrated; seeded
 * with N jobs only when it has none; kept), e.g. the JIT server of `npm run pg:system`.
 * --smoke: 5,000 jobs. Writes bench/results/<date>-shapes-<size>[-smoke][-pg<major>].{json,md}.
 */
import { parseArgs } from 'node:util';
import { Resources } from './processes.ts';
import { runShapes } from './shape-sweep.ts';

const log = (line: string) => process.stdout.write(`${line}\n`);
const resources = new Resources();
process.once('exit', () => resources.releaseAtExit());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`\n${signal}: stopping everything the sweep started`);
    void resources.release(log).finally(() => process.exit(130));
  });
}

const usage = 'usage: npm run bench:shapes -- [--jobs N] [--database URL] [--smoke] [--seed S] [--out DIR]';
let values: { jobs?: string; database?: string; smoke: boolean; seed?: string; out?: string };
try {
  ({ values } = parseArgs({
    strict: true,
    options: { jobs: { type: 'string' }, database: { type: 'string' }, smoke: { type: 'boolean', default: false }, seed: { type: 'string' }, out: { type: 'string' } },
  }));
} catch (err) {
  process.stderr.write(`bench:shapes: ${(err as Error).message}\n${usage}\n`);
  process.exit(2);
}
const jobs = Number((values.jobs ?? (values.smoke ? '5000' : '1000000')).replace(/_/g, ''));
const seedValue = Number(values.seed ?? '42');
if (!Number.isInteger(jobs) || jobs < 5 || !Number.isInteger(seedValue) || seedValue < 0) {
  process.stderr.write(`bench:shapes: --jobs must be an integer of at least 5 and --seed a non-negative integer\n${usage}\n`);
  process.exit(2);
}
const command = ['npm run bench:shapes --', ...process.argv.slice(2).map((a) => (a.includes('://') ? '<url>' : a))].join(' ');

try {
  const run = await runShapes({ jobs, databaseUrl: values.database, seed: seedValue, outDir: values.out ?? 'bench/results', smoke: values.smoke, log }, resources, command);
  const s = run.summary;
  log(`\n${s.shapes} shapes: cold p50 ${s.cold.p50} ms, p90 ${s.cold.p90} ms, max ${s.cold.max} ms; warm p50 ${s.warm.p50} ms, max ${s.warm.max} ms`);
  log(`over 100 ms: ${s.cold.over100ms} cold, ${s.warm.over100ms} warm; over 1 s: ${s.cold.over1s} cold, ${s.warm.over1s} warm; non-200: ${s.non200}; from the base tables: ${s.baseTables}`);
  log(`wrote ${run.files!.json} and ${run.files!.markdown}`);
} catch (err) {
  process.stderr.write(`bench:shapes failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await resources.release(log);
}
