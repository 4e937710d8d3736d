/**
 * DB_POOLER=auto behind something that silently drops the startup `options` (issue 26): the first
 * connection is checked for the settings it asked for, and without them every statement runs with
 * SET LOCAL, so reads keep their statement timeout and stay read-only.
 */
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import { createApiDatabase } from '../../../src/runtime.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { startOptionsDroppingProxy, type Proxy } from '../../helpers/options-dropping-proxy.ts';

const DB = { poolMax: 2, statementTimeoutMs: 1234, connectTimeoutMs: 3_000, retryAfterSeconds: 1, pooler: 'auto', preparedMax: 32 } as const;
const SETTINGS = { text: "SELECT current_setting('statement_timeout') AS timeout, current_setting('transaction_read_only') AS read_only", values: [] };

function capturingLog() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { log: pino({ level: 'warn' }, stream), warnings: () => lines.filter((l) => l.level === 40).map((l) => l.msg) };
}

describe('DB_POOLER=auto when the startup options are dropped silently', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let proxy: Proxy;
  before(async () => {
    db = await createTestDatabase({ migrate: false });
    proxy = await startOptionsDroppingProxy(db.url);
  });
  after(async () => {
    await proxy?.stop();
    await db?.drop();
  });

  it('switches to SET LOCAL per statement with one warning, so reads keep their statement timeout and are read-only', async () => {
    const { log, warnings } = capturingLog();
    const api = await createApiDatabase(DB, proxy.url, log);
    try {
      expect(api.session.mode).to.equal('transaction');
      const [row] = await api.executor.query<{ timeout: string; read_only: string }>(SETTINGS);
      expect(row).to.deep.equal({ timeout: '1234ms', read_only: 'on' });
      expect(warnings()).to.have.length(1);
      expect(warnings()[0]).to.match(/^the first connection did not carry the startup options/);
    } finally {
      await api.pool.end();
    }
  });

  it('keeps the startup options, and named statements, on a direct connection', async () => {
    const { log, warnings } = capturingLog();
    const api = await createApiDatabase(DB, db.url, log);
    try {
      expect(api.session.mode).to.equal('none');
      const [row] = await api.executor.query<{ timeout: string; read_only: string }>(SETTINGS);
      expect(row).to.deep.equal({ timeout: '1234ms', read_only: 'on' });
      expect(warnings()).to.deep.equal([]);
    } finally {
      await api.pool.end();
    }
  });
});
