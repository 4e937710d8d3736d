import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { limitHeapGrowth } from '../../../src/core/heap.ts';

const ROOT = path.join(import.meta.dirname, '../../..');
const TSX = path.join(ROOT, 'node_modules/tsx/dist/cli.mjs');

/** Runs `code` (an ES module) in a fresh Node process; its stdout and stderr together. */
function runNode(code: string): string {
  const r = spawnSync(process.execPath, [TSX, '--eval', code], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).to.equal(0);
  return r.stdout + r.stderr;
}

describe('limitHeapGrowth', () => {
  it('sets V8 heap growing factor to 1 + percent/100, and leaves V8 its own at 0', () => {
    const set: string[] = [];
    limitHeapGrowth(50, (f) => set.push(f));
    limitHeapGrowth(0, (f) => set.push(f));
    expect(set).to.deep.equal(['--heap-growing-percent=50']);
  });

  it('gives V8 a flag this Node knows (V8 prints "unrecognized flag" for one it does not)', () => {
    const out = runNode(`import { limitHeapGrowth } from './src/core/heap.ts'; limitHeapGrowth(50); console.log('set');`);
    expect(out).to.include('set');
    expect(out).not.to.match(/unrecognized flag/);
    // The check above can fail: a misspelt flag is reported.
    expect(runNode(`import v8 from 'node:v8'; v8.setFlagsFromString('--heap-growing-percentage=50');`)).to.match(/unrecognized flag/);
  });
});
