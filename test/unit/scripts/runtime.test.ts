import { execFile } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
// @ts-expect-error plain JavaScript without declarations: it must run on an unsupported Node, before any install
import { supported } from '../../../scripts/runtime.mjs';

const SCRIPT = path.join(import.meta.dirname, '../../../scripts/runtime.mjs');

/** Runs `runtime.mjs check` as if on another Node release: process.version is replaced before it loads. */
function checkAs(version: string): Promise<{ code: number; stderr: string }> {
  const fake = `data:text/javascript,Object.defineProperty(process, 'version', { value: ${JSON.stringify(version)} })`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', fake, SCRIPT, 'check'], { cwd: path.dirname(SCRIPT) }, (err, _stdout, stderr) => {
      resolve({ code: err === null ? 0 : Number(err.code), stderr });
    });
  });
}

describe('the supported Node.js runtimes (scripts/runtime.mjs)', () => {
  it('accepts 22.12 and later 22s, every 24 and later majors, and nothing older or odd in between', () => {
    const verdicts = ['v20.20.2', 'v22.11.0', 'v22.12.0', 'v22.23.5', 'v23.11.0', 'v24.0.0', 'v24.22.3', 'v26.1.0'].map((v) => [v, supported(v)]);
    expect(verdicts).to.deep.equal([
      ['v20.20.2', false],
      ['v22.11.0', false],
      ['v22.12.0', true],
      ['v22.23.5', true],
      ['v23.11.0', false],
      ['v24.0.0', true],
      ['v24.22.3', true],
      ['v26.1.0', true],
    ]);
  });

  it('runs these tests on the Node.js that ci_local.sh chose for this pass', () => {
    // ci_local.sh names the major of each pass; a `node` found first on PATH (npm puts the pinned
    // 24 there) must not quietly run the Node 22 pass on 24.
    const wanted = process.env.EVENTSTATS_TEST_NODE_MAJOR;
    const major = process.versions.node.split('.')[0];
    if (wanted) expect(major).to.equal(wanted);
    expect(supported(process.version), process.version).to.equal(true);
  });

  it('stops npm start on Node.js 20 with one line naming the versions needed, and lets a supported one through', async () => {
    const old = await checkAs('v20.20.2');
    expect(old.code).to.equal(1);
    expect(old.stderr.trim().split('\n')).to.have.length(1);
    expect(old.stderr).to.match(/^eventstats: Node\.js v20\.20\.2 is not supported; EventStats needs \^22\.12\.0 \|\| >=24\.0\.0/);
    expect(await checkAs('v24.22.3')).to.deep.equal({ code: 0, stderr: '' });
  });
});
