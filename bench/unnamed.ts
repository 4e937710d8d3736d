/**
 * `--unnamed-beside`: the `days: 7` load of every compiled query against two APIs on the same
 * database, taking turns: this one (request shapes' statements named, planned once: src/db/prepared.ts)
 * and one with DB_PREPARED_MAX=0 (every statement unnamed, parsed and planned per request, as before
 * issue 30's prepared statements). Side by side, so the machine's drift between the two is small.
 */
import { compiledTarget, type CompiledResult } from './compiled.ts';
import { measureLoad, type LoadResult } from './load.ts';
import { ratio } from './stats.ts';

export interface UnnamedSide {
  readonly query: string;
  /** Named (this API) and unnamed (DB_PREPARED_MAX=0), each at 1 connection and at N. */
  readonly named: { readonly oneConnection: LoadResult; readonly concurrent: LoadResult };
  readonly unnamed: { readonly oneConnection: LoadResult; readonly concurrent: LoadResult };
  /** named req/s at N / unnamed req/s at N. */
  readonly ratio: number | null;
}

export async function measureUnnamedBeside(
  named: string,
  unnamed: string,
  compiled: readonly CompiledResult[],
  authorization: string,
  settings: { readonly warmupS: number; readonly durationS: number; readonly connections: number },
): Promise<UnnamedSide[]> {
  const out: UnnamedSide[] = [];
  for (const c of compiled) {
    const target = (base: string) => ({ ...compiledTarget(base, c.path, c.body, authorization), body: JSON.stringify({ days: 7 }) });
    const run = async (base: string, connections: number) => measureLoad(target(base), connections, settings.warmupS, settings.durationS);
    const n1 = await run(named, 1);
    const u1 = await run(unnamed, 1);
    const u16 = await run(unnamed, settings.connections);
    const n16 = await run(named, settings.connections);
    out.push({
      query: c.query,
      named: { oneConnection: n1, concurrent: n16 },
      unnamed: { oneConnection: u1, concurrent: u16 },
      ratio: ratio(n16.requestsPerSecond, u16.requestsPerSecond),
    });
  }
  return out;
}
