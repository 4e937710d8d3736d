/**
 * npm run pg:system: a throwaway cluster of the machine's PostgreSQL server build (Debian's 15 with
 * its JIT, test/helpers/system-postgres.ts) for benchmarks that take DATABASE_URL, the server users
 * run beside the embedded one. Prints `DATABASE_URL=<url>` and serves until SIGINT or SIGTERM, then
 * stops the server and removes its folder. EVENTSTATS_TEST_PG_MAJOR / EVENTSTATS_TEST_PG_BIN choose the build.
 */
import { startSystemServer } from '../test/helpers/system-postgres.ts';

const server = await startSystemServer();
process.stdout.write(`${server.version}\nDATABASE_URL=${server.urlOf('postgres')}\n`);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void server.stop().then(() => process.exit(0));
  });
}
setInterval(() => {}, 1 << 30);
