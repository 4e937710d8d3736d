import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { checkReachableAsRoot, firstBarrier } from '../../../src/db/embedded.ts';

describe('embedded PostgreSQL under root: can the postgres user reach its folders', () => {
  let top: string;
  let data: string;
  const stranger = { uid: 424242, gids: [424242] };

  beforeEach(async () => {
    top = await mkdtemp(path.join(os.tmpdir(), 'eventstats-reach-'));
    data = path.join(top, 'app', '.data', 'pg');
    await mkdir(path.join(top, 'app'));
  });
  afterEach(() => rm(top, { recursive: true, force: true }));

  it('names the first folder on the way that others may not enter, with its mode', async () => {
    await chmod(top, 0o700);
    expect(firstBarrier(data, stranger)).to.equal(`${top} (mode 700, owner uid ${process.getuid?.()})`);
    expect(firstBarrier(data, undefined), 'a user that does not exist yet is treated as a stranger').to.match(/mode 700/);
  });

  it('lets through a folder its owner or group may enter when the user is that owner or in that group', async () => {
    await chmod(top, 0o700);
    const owner = process.getuid?.() ?? 0;
    expect(firstBarrier(data, { uid: owner, gids: [] })).to.equal(undefined);
    await chmod(top, 0o710);
    expect(firstBarrier(data, { uid: 424242, gids: [process.getgid?.() ?? 0] })).to.equal(undefined);
    expect(firstBarrier(data, stranger)).to.match(/mode 710/);
  });

  it('finds no barrier once every folder on the way may be entered (folders still to be created count as open)', async () => {
    await chmod(top, 0o755);
    expect(firstBarrier(data, stranger)).to.equal(undefined);
  });

  it('stops root with one sentence saying what to do, and leaves other users alone', async () => {
    await chmod(top, 0o700);
    expect(() => checkReachableAsRoot(data, 0)).to.throw(/cannot reach the data folder .*it may not enter .*mode 700.*set DATA_DIR to a folder it can enter/);
    expect(() => checkReachableAsRoot(data, 1000)).not.to.throw();
  });
});

