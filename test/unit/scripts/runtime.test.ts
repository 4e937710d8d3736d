import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readlink, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
// @ts-expect-error plain JavaScript without declarations: it must run on an unsupported Node, before any install
import { supported } from '../../../scripts/runtime.mjs';

const SCRIPT = path.join(import.meta.dirname, '../../../scripts/runtime.mjs');

const ROOT = path.join(import.meta.dirname, '../../..');

/** Runs `runtime.mjs <command>` as if on another Node release: process.version is replaced before it loads. */
function runAs(version: string, command: string, script = SCRIPT): Promise<{ code: number; stderr: string }> {
  const fake = `data:text/javascript,Object.defineProperty(process, 'version', { value: ${JSON.stringify(version)} })`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', fake, script, command], { cwd: path.dirname(script) }, (err, _stdout, stderr) => {
      resolve({ code: err === null ? 0 : Number(err.code), stderr });
    });
  });
}

const checkAs = (version: string) => runAs(version, 'check');

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

  it('makes npm scripts run on the pinned Node.js 24 after npm ci on Node.js 20, and leaves a supported Node alone', async () => {
    // A copy of the project's runtime files. Its runtimes/node_modules is this checkout's where
    // ci_local.sh (or npm ci) installed it, so nothing is downloaded here.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'es-runtime-'));
    try {
      await mkdir(path.join(dir, 'scripts'));
      await mkdir(path.join(dir, 'runtimes'));
      await copyFile(SCRIPT, path.join(dir, 'scripts', 'runtime.mjs'));
      await copyFile(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
      for (const f of ['package.json', 'package-lock.json']) await copyFile(path.join(ROOT, 'runtimes', f), path.join(dir, 'runtimes', f));
      if (existsSync(path.join(ROOT, 'runtimes', 'node_modules'))) {
        await symlink(path.join(ROOT, 'runtimes', 'node_modules'), path.join(dir, 'runtimes', 'node_modules'));
      }
      const script = path.join(dir, 'scripts', 'runtime.mjs');
      const link = path.join(dir, 'node_modules', '.bin', 'node');

      expect(await runAs('v24.22.3', 'prepare', script)).to.deep.equal({ code: 0, stderr: '' });
      expect(await readlink(link).catch(() => 'no link')).to.equal('no link');

      const old = await runAs('v20.20.2', 'prepare', script);
      if (process.platform !== 'linux' || process.arch !== 'x64') {
        // The registry has the pinned binaries for Linux x64 only: elsewhere one line says what to install.
        expect(old.code).to.equal(1);
        expect(old.stderr).to.match(/Linux x64 only: install Node\.js 24 LTS/);
        return;
      }
      expect(old.code).to.equal(0);
      expect(old.stderr).to.match(/npm scripts here run on the pinned Node\.js 24/);
      const version = await new Promise<string>((resolve, reject) =>
        execFile(link, ['--version'], (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))),
      );
      expect(version).to.match(/^v24\./);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
