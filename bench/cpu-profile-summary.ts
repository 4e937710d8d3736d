/**
 * Self time per file and per function of a V8 .cpuprofile (what `node --cpu-prof` writes):
 *   npx tsx bench/cpu-profile-summary.ts <file.cpuprofile>
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const profile = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const short = url.replace(/^.*\/(node_modules\/[^/]+|dist\/src\/.+)$/, '$1');
  const fn = `${functionName || '(anonymous)'} ${short}:${lineNumber}`;
  const file = url.replace(/^.*\/node_modules\/([^/]+).*$/, 'npm:$1').replace(/^.*\/dist\/src\//, 'src/') || functionName;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
  byFile.set(file, (byFile.get(file) ?? 0) + dt);
});
const top = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, t]) => `${((100 * t) / total).toFixed(1)}%  ${k}`)
    .join('\n');
process.stdout.write(`sampled ${(total / 1000).toFixed(0)} ms\n\nby file\n${top(byFile, 18)}\n\nby function\n${top(byFunction, 30)}\n`);
