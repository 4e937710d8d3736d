/** `npm run seed` arguments: parsed and checked here, so the command itself only wires. */
import { UsageError } from "../core/errors.js";
import { parseArgs } from 'node:util';
import { SHAPE } from "./universe.js";
export const SEED_USAGE = `usage: npm run seed -- --runs N [--seed S] [--days D] [--end MS] [--status-rows N]

Writes N seeded runs (about ${SHAPE.jobsPerRun.mean} jobs each) and status-change rows into the
source tables of the database at DATABASE_URL (run \`npm run migrate\` first).

  --runs N          runs to write (required)
  --seed S          PRNG seed, a non-negative integer (default ${SHAPE.defaultSeed})
  --days D          length of the time window in days (default ${SHAPE.defaultDays})
  --end MS          end of the window in epoch milliseconds (default: now)
  --status-rows N   status-change rows to write (default: one per run)
  -h, --help        show this text`;
function integer(flag, raw) {
    if (raw === undefined)
        return undefined;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n))
        throw new UsageError(`--${flag} must be a non-negative integer, got '${raw}'`);
    return n;
}
/** Throws UsageError with a one-line reason; the caller prints it with SEED_USAGE. */
export function parseSeedArgs(argv) {
    let values;
    try {
        ({ values } = parseArgs({
            args: [...argv],
            strict: true,
            allowPositionals: false,
            options: {
                runs: { type: 'string' },
                seed: { type: 'string' },
                days: { type: 'string' },
                end: { type: 'string' },
                'status-rows': { type: 'string' },
                help: { type: 'boolean', short: 'h' },
            },
        }));
    }
    catch (err) {
        throw new UsageError(err.message, { cause: err });
    }
    if (values.help)
        return { help: true };
    const runs = integer('runs', values.runs);
    if (runs === undefined)
        throw new UsageError('--runs is required');
    let days;
    if (values.days !== undefined) {
        days = Number(values.days);
        if (!/^\d+(\.\d+)?$/.test(values.days) || !(days > 0))
            throw new UsageError(`--days must be a positive number, got '${values.days}'`);
    }
    const end = integer('end', values.end);
    if (end === 0)
        throw new UsageError('--end must be a positive epoch millisecond value');
    return {
        help: false,
        options: { runs, seed: integer('seed', values.seed), days, end, statusRows: integer('status-rows', values['status-rows']) },
    };
}
//# sourceMappingURL=args.js.map