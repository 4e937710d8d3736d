/**
 * The `cycles` path of npm run bench:write-path: what the maintenance cycles cost the gateway's
 * insert path, with and without one writer transaction held open (issue 25). Four phases of
 * `seconds` each, side by side in one run: the gateway's insert (one run and 5 jobs per transaction,
 * one client in a closed loop) alone; the same with every view cycled every `cycleSeconds` (a child
 * process, bench/write-path-cycler.ts); both again with one writer transaction that inserted a run
 * and its jobs and stays open for the whole phase. Per phase: inserts, p99 and max latency, cycles
 * ok and failed, the most ids a cycle held back; after the last phase the long writer commits and
 * one more round of cycles shows nothing held back. With `rounds` > 1 the four phases run that many
 * times, each pair (without cycles, with cycles) in alternating order (the odd rounds with cycles
 * first), so that drift (caches warming, other load) does not fall on one side; the summary gives
 * each round's ratio with/without.
 */
import path from 'node:path';
import pg from 'pg';
import { TABLES } from '../src/db/tables.ts';
import { Resources, spawnChild } from './processes.ts';

export interface PhaseResult {
  readonly round: number;
  readonly phase: string;
  readonly inserts: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly cyclesOk: number;
  readonly cyclesFailed: number;
  readonly errors: readonly string[];
  readonly maxHeldBack: number;
  /** The median round of cycles of every view (ms), as the cycler timed it. */
  readonly cycleRoundMs: number | null;
}

/** Per round, inserts and max latency with cycles against without, with and without the long writer. */
export interface RoundSummary {
  readonly round: number;
  readonly insertsRatio: number;
  readonly maxDeltaMs: number;
  readonly insertsRatioLongWriter: number;
  readonly maxDeltaMsLongWriter: number;
}

const PHASES = ['writes alone', 'writes + cycles', 'writes + one writer transaction held open', 'the same + cycles'] as const;

export function summarize(results: readonly PhaseResult[]): RoundSummary[] {
  const rounds = [...new Set(results.map((r) => r.round))];
  return rounds.map((round) => {
    const of = (phase: string) => results.find((r) => r.round === round && r.phase === phase)!;
    const [alone, cycles, held, heldCycles] = PHASES.map(of);
    return {
      round,
      insertsRatio: Number((cycles!.inserts / alone!.inserts).toFixed(3)),
      maxDeltaMs: Number((cycles!.maxMs - alone!.maxMs).toFixed(1)),
      insertsRatioLongWriter: Number((heldCycles!.inserts / held!.inserts).toFixed(3)),
      maxDeltaMsLongWriter: Number((heldCycles!.maxMs - held!.maxMs).toFixed(1)),
    };
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let counter = 0;

/** One run and its 5 jobs, in the caller's transaction. */
async function insertRun(c: pg.ClientBase, tenant: string): Promise<void> {
  const id = `bench-${process.pid}-${++counter}`;
  const ts = Date.now();
  await c.query(
    `INSERT INTO ${TABLES.runs} (event_id, job_ref, tenant_id, source_app, source_app_version, environment, timestamp_start, timestamp_end)
     VALUES ($1, 'ref', $2, 'pipeline-bench', '1', 'prod', $3::bigint, NULL)`,
    [id, tenant, ts],
  );
  await c.query(
    `INSERT INTO ${TABLES.runsJobs} (event_id, country, catalog_id, status, timestamp_start, timestamp_end)
     SELECT $1, 'ZA', 'catalog-' || i, 'succeeded', $2::bigint, NULL FROM generate_series(1, 5) AS i`,
    [id, ts],
  );
}

/** The gateway's insert: one run and its jobs per transaction. */
async function gatewayInsert(c: pg.ClientBase): Promise<void> {
  await c.query('BEGIN');
  await insertRun(c, 'gateway');
  await c.query('COMMIT');
}

function cycler(resources: Resources, url: string, cycleSeconds: number) {
  return spawnChild(resources, 'cycler', process.execPath, ['--import', 'tsx', path.join('bench', 'write-path-cycler.ts'), url, String(cycleSeconds * 1000)], {
    env: process.env,
    cwd: process.cwd(),
  });
}

function rounds(output: string): { ok: number; failed: number; errors: string[]; heldBack: number; ms: number }[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { ok: number; failed: number; errors: string[]; heldBack: number; ms: number });
}

export async function cyclePhases(
  url: string,
  options: { seconds: number; cycleSeconds: number; rounds?: number },
  log: (line: string) => void,
): Promise<PhaseResult[]> {
  const resources = new Resources();
  const writer = new pg.Client({ connectionString: url });
  await writer.connect();
  const results: PhaseResult[] = [];
  try {
    const order = (round: number) => (round % 2 ? [PHASES[1], PHASES[0], PHASES[3], PHASES[2]] : [...PHASES]);
    for (const [round, phase] of Array.from({ length: options.rounds ?? 1 }, (_, r) => order(r).map((p) => [r + 1, p] as const)).flat()) {
      const withCycles = phase.endsWith('cycles');
      const longWriter = phase.includes('held open') || phase === 'the same + cycles';
      let open: pg.Client | undefined;
      if (longWriter) {
        open = new pg.Client({ connectionString: url });
        await open.connect();
        await open.query('BEGIN');
        await insertRun(open, 'backfill');
      }
      const child = withCycles ? cycler(resources, url, options.cycleSeconds) : undefined;
      // Its start-up (loading and compiling modules) is not a cycle's cost: measured from its first cycle on.
      while (child && !child.output().includes('ready') && !child.exited()) await sleep(50);
      const latencies: number[] = [];
      const end = performance.now() + options.seconds * 1000;
      while (performance.now() < end) {
        const t0 = performance.now();
        await gatewayInsert(writer);
        latencies.push(performance.now() - t0);
      }
      await child?.stop();
      if (open) {
        await open.query('COMMIT');
        await open.end();
      }
      const done = child ? rounds(child.output()) : [];
      latencies.sort((a, b) => a - b);
      const ms = done.map((x) => x.ms).sort((a, b) => a - b);
      const r: PhaseResult = {
        round,
        phase,
        inserts: latencies.length,
        p99Ms: Number(latencies[Math.floor(latencies.length * 0.99)]!.toFixed(2)),
        maxMs: Number(latencies.at(-1)!.toFixed(1)),
        cyclesOk: done.reduce((n, x) => n + (x.failed === 0 ? 1 : 0), 0),
        cyclesFailed: done.reduce((n, x) => n + (x.failed > 0 ? 1 : 0), 0),
        errors: [...new Set(done.flatMap((x) => x.errors))],
        maxHeldBack: Math.max(0, ...done.map((x) => x.heldBack)),
        cycleRoundMs: ms.length ? ms[Math.floor(ms.length / 2)]! : null,
      };
      log(
        `round ${round}, ${r.phase}: ${r.inserts} inserts, p99 ${r.p99Ms} ms, max ${r.maxMs} ms` +
          (child ? `, cycles ${r.cyclesOk} ok / ${r.cyclesFailed} failed (median round ${r.cycleRoundMs} ms), held back ≤ ${r.maxHeldBack}` : ''),
      );
      results.push(r);
      await sleep(500);
    }
    // The long writer has committed: one round of cycles absorbs what it held back.
    const after = cycler(resources, url, 3600);
    while (!rounds(after.output()).length && !after.exited()) await sleep(100);
    await after.stop();
    const last = rounds(after.output())[0];
    log(`after its commit: ${last?.failed ?? '?'} failed, ${last?.heldBack ?? '?'} held back`);
    for (const s of summarize(results)) {
      log(
        `round ${s.round}: inserts with/without cycles ${s.insertsRatio}, max ${s.maxDeltaMs >= 0 ? '+' : ''}${s.maxDeltaMs} ms; ` +
          `with the long writer ${s.insertsRatioLongWriter}, max ${s.maxDeltaMsLongWriter >= 0 ? '+' : ''}${s.maxDeltaMsLongWriter} ms`,
      );
    }
  } finally {
    await writer.end();
    await resources.release(log);
  }
  return results;
}
