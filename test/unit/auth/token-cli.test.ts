import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { KeyStore } from '../../../src/auth/keys.ts';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('npm run token', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-token-cli-'));
  });
  afterEach(async () => rm(dataDir, { recursive: true, force: true }));

  function token(args: string[], env: Record<string, string> = {}): Promise<Run> {
    // CONF_DIR points at the empty temp dir so a developer's conf/config.json cannot leak into the test.
    const childEnv = { ...process.env, DATA_DIR: dataDir, CONF_DIR: dataDir, NODE_ENV: 'development', ...env };
    return new Promise((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', ...args], { env: childEnv }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr });
      });
    });
  }

  async function verify(printed: string): Promise<jwt.JwtPayload> {
    const file = path.join(dataDir, 'dev-keys', 'public-keys.json');
    const key = await new KeyStore({ source: file }).keyFor(printed.trim(), undefined);
    return jwt.verify(printed.trim(), key!, { algorithms: ['RS256'] }) as jwt.JwtPayload;
  }

  it('prints one line: a token for the user that verifies against the generated public key file', async () => {
    const run = await token(['alice']);
    expect(run.code).to.equal(0);
    expect(run.stdout.split('\n')).to.have.length(2).and.to.satisfy((lines: string[]) => lines[1] === '');
    const payload = await verify(run.stdout);
    expect(payload.sub).to.equal('alice');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).to.equal(3600);
  });

  it('honours --ttl given in minutes or seconds, and reuses the key pair', async () => {
    const minutes = await token(['alice', '--ttl', '30m']);
    const seconds = await token(['--ttl=45', 'bob']);
    const [a, b] = [await verify(minutes.stdout), await verify(seconds.stdout)];
    expect((a.exp ?? 0) - (a.iat ?? 0)).to.equal(1800);
    expect(b.sub).to.equal('bob');
    expect((b.exp ?? 0) - (b.iat ?? 0)).to.equal(45);
  });

  it('refuses with NODE_ENV=production: exit code 2, one line on stderr, no key created', async () => {
    const run = await token(['alice'], { NODE_ENV: 'production' });
    expect(run.code).to.equal(2);
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.equal('token: refusing to sign a development token with NODE_ENV=production\n');
    expect(existsSync(path.join(dataDir, 'dev-keys'))).to.equal(false);
  });

  it('prints the usage and exits 2 on bad arguments, without a stack trace', async () => {
    for (const args of [[], ['alice', 'bob'], ['alice', '--ttl', '1w'], ['alice', '--ttl', '0'], ['alice', '--verbose']]) {
      const run = await token(args);
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.include('usage: npm run token -- <user> [--ttl');
      expect(run.stderr).not.to.match(/\n\s+at /);
    }
  });
});
