import { expect } from 'chai';
import { settingsWarnings, SUPPORTED_MAJORS, type ServerSettings } from '../../../src/db/server-settings.ts';

const GOOD: ServerSettings = { version_num: 150018, track_counts: 'on', max_locks_per_transaction: 64, statement_timeout_ms: 0 };

describe('server settings checked at start-up', () => {
  it('says nothing when every assumption holds, for each command', () => {
    for (const user of ['worker', 'refresh', 'migrate'] as const) expect(settingsWarnings(GOOD, user), user).to.deep.equal([]);
    expect(settingsWarnings({ ...GOOD, version_num: 180001 }, 'worker')).to.deep.equal([]);
  });

  it('names a server older than the oldest supported major, and one newer than the newest tested', () => {
    expect(settingsWarnings({ ...GOOD, version_num: 140011 }, 'worker')).to.deep.equal([`PostgreSQL 14 is older than the oldest supported major (${SUPPORTED_MAJORS.oldest}): upgrade the server`]);
    expect(settingsWarnings({ ...GOOD, version_num: 190000 }, 'migrate')[0]).to.match(/^PostgreSQL 19 is newer than the newest major EventStats is tested on \(18\)/);
  });

  it('names track_counts off to the cycle, not to migrations', () => {
    const off = { ...GOOD, track_counts: 'off' };
    expect(settingsWarnings(off, 'worker')).to.have.length(1);
    expect(settingsWarnings(off, 'refresh')[0]).to.match(/^track_counts is off: .*set track_counts = on$/);
    expect(settingsWarnings(off, 'migrate')).to.deep.equal([]);
  });

  it('names max_locks_per_transaction below the default to everyone', () => {
    for (const user of ['worker', 'refresh', 'migrate'] as const) {
      expect(settingsWarnings({ ...GOOD, max_locks_per_transaction: 32 }, user)).to.deep.equal([
        "max_locks_per_transaction is 32, below PostgreSQL's default 64 that migrations and rebuilds are tested with: one may fail with 'out of shared memory'; set it to at least 64",
      ]);
    }
  });

  it('names a statement_timeout of the role or database to migrations only (the cycle and the API set their own)', () => {
    const timed = { ...GOOD, statement_timeout_ms: 30_000 };
    expect(settingsWarnings(timed, 'worker')).to.deep.equal([]);
    expect(settingsWarnings(timed, 'migrate')).to.have.length(1);
    expect(settingsWarnings(timed, 'migrate')[0]).to.match(/^statement_timeout is 30000 ms for this role or database/);
  });
});
