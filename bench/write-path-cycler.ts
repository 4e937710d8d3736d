/**
 * The worker's cycles, compressed for bench/write-path-cycles.ts: every view refreshed every
 * `interval` ms (one after the other, as `npm run refresh` does), in a process of its own so that
 * the writer's latencies are measured from outside, as the gateway sees them. One JSON line per
 * round on stdout: how many views refreshed (or were skipped), how many failed, the ids held back.
 * Usage: node --import tsx bench/write-path-cycler.ts <database url> <interval ms>
 */
import pg from 'pg';
import { registeredViews } from '../src/declarations/index.ts';
import { refreshViews } from '../src/refresh/refresh-view.ts';

const [url, interval] = process.argv.slice(2);
if (!url || !interval) throw new Error('usage: write-path-cycler.ts <database url> <interval ms>');
const pool = new pg.Pool({ connectionString: url, max: 3 });
pool.on('error', () => {});
let stopping = false;
// Started (modules loaded and compiled): the phase's measurement begins after this line.
process.stdout.write('ready\n');
process.once('SIGTERM', () => (stopping = true));
while (!stopping) {
  const t0 = performance.now();
  const results = await refreshViews(pool, registeredViews(), { statementTimeoutMs: 600_000, lockTimeoutMs: 10_000 });
  const failed = results.filter((r) => r.outcome === 'failed');
  process.stdout.write(
    `${JSON.stringify({
      ok: results.length - failed.length,
      failed: failed.length,
      errors: [...new Set(failed.map((r) => r.error))],
      heldBack: Math.max(0, ...results.map((r) => r.report?.heldBack ?? 0)),
      ms: Math.round(performance.now() - t0),
    })}\n`,
  );
  const rest = Number(interval) - (performance.now() - t0);
  for (let waited = 0; waited < rest && !stopping; waited += 100) await new Promise((r) => setTimeout(r, Math.min(100, rest - waited)));
}
await pool.end();
