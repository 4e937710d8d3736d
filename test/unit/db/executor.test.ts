/**
 * The executor's two ways of running a statement (src/db/session-mode.ts) and its one retry of a
 * statement the server connection lost, against a fake pool that records what it was sent.
 */
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { createExecutor } from '../../../src/db/executor.ts';
import { GENERIC_PLANS, SESSION_PLANS } from '../../../src/db/prepared.ts';
import { SessionMode } from '../../../src/db/session-mode.ts';
import { DatabaseUnavailableError } from '../../../src/core/errors.ts';

interface Sent {
  readonly on: 'pool' | 'client';
  readonly text: string;
  readonly name?: string;
}

const failure = (message: string, code?: string) => Object.assign(new Error(message), code === undefined ? {} : { code });

/**
 * A pool whose statements answer `[{ ok: 1 }]`, except that `fail` may throw for a statement it is
 * shown; its clients are event emitters, as pg's are (`clients` holds each one handed out).
 */
function fakePool(fail: (text: string, name: string | undefined, n: number) => Error | undefined = () => undefined) {
  const clients: EventEmitter[] = [];
  const sent: Sent[] = [];
  const released: (Error | undefined)[] = [];
  let n = 0;
  const run = (on: Sent['on'], q: string | pg.QueryConfig) => {
    const text = typeof q === 'string' ? q : q.text;
    const name = typeof q === 'string' ? undefined : q.name;
    sent.push({ on, text, ...(name === undefined ? {} : { name }) });
    const err = fail(text, name, n++);
    if (err) return Promise.reject(err);
    return Promise.resolve({ rows: [{ ok: 1 }] });
  };
  const options: { options?: string } = { options: '-c statement_timeout=5000' };
  const pool = {
    options,
    query: (q: pg.QueryConfig) => run('pool', q),
    connect: () => {
      const client = Object.assign(new EventEmitter(), { query: (q: string | pg.QueryConfig) => run('client', q), release: (e?: Error) => released.push(e) });
      clients.push(client);
      return Promise.resolve(client);
    },
  } as unknown as pg.Pool;
  return { pool, sent, released, clients };
}

const SETTINGS = { statementTimeoutMs: 5000, readOnly: true };
const Q = { text: 'SELECT 1 AS ok', values: [], name: 'eventstats_probe' };

describe('createExecutor', () => {
  it('with preparedMax, survives a connection the server ends while its client is checked out: released as broken, no unhandled error', async () => {
    const ended = failure('terminating connection due to administrator command', '57P01');
    let listening = -1;
    const { pool, released, clients } = fakePool((text) => {
      if (text !== Q.text) return undefined;
      // The server ends the session while the client is out: pg emits 'error' on it, and an
      // 'error' nobody listens for would end the process.
      const client = clients.at(-1)!;
      listening = client.listenerCount('error');
      if (listening > 0) client.emit('error', ended);
      return undefined;
    });
    const executor = createExecutor(pool, { retryAfterSeconds: 1, preparedMax: 4 });
    expect(await executor.query(Q)).to.deep.equal([{ ok: 1 }]);
    expect(listening, 'a listener while the client is out').to.equal(1);
    expect(released, 'released as broken').to.deep.equal([ended]);
    expect(clients.every((c) => c.listenerCount('error') === 0), 'no listener left behind').to.equal(true);
  });

  it('runs a named statement on the pool as it is, in the none mode', async () => {
    const { pool, sent } = fakePool();
    const db = createExecutor(pool, { retryAfterSeconds: 1, session: new SessionMode(pool, 'none'), settings: SETTINGS });
    expect(await db.query(Q)).to.deep.equal([{ ok: 1 }]);
    expect(sent).to.deep.equal([{ on: 'pool', text: Q.text, name: Q.name }]);
  });

  it('with preparedMax, runs a named statement on a client of its own under generic plans, and an unnamed one under the session\'s', async () => {
    const { pool, sent, released } = fakePool();
    // One client, as a pool of one hands out.
    const client = await pool.connect();
    (pool as unknown as { connect: () => Promise<unknown> }).connect = () => Promise.resolve(client);
    const db = createExecutor(pool, { retryAfterSeconds: 1, session: new SessionMode(pool, 'none'), preparedMax: 4 });
    await db.query(Q);
    await db.query(Q);
    await db.query({ text: 'SELECT $1::int AS ok', values: [1] });
    await db.query(Q);
    expect(sent).to.deep.equal([
      { on: 'client', text: GENERIC_PLANS },
      { on: 'client', text: Q.text, name: Q.name },
      { on: 'client', text: Q.text, name: Q.name },
      { on: 'client', text: SESSION_PLANS },
      { on: 'client', text: 'SELECT $1::int AS ok' },
      { on: 'client', text: GENERIC_PLANS },
      { on: 'client', text: Q.text, name: Q.name },
    ]);
    expect(released).to.deep.equal([undefined, undefined, undefined, undefined]);
  });

  it('runs every statement unnamed on the pool with preparedMax 0', async () => {
    const { pool, sent } = fakePool();
    const db = createExecutor(pool, { retryAfterSeconds: 1, session: new SessionMode(pool, 'none'), preparedMax: 0 });
    expect(await db.query(Q)).to.deep.equal([{ ok: 1 }]);
    expect(sent).to.deep.equal([{ on: 'pool', text: Q.text }]);
  });

  it('with preparedMax, does not hand out again a client whose statement failed', async () => {
    const { pool, released } = fakePool((text) => (text === Q.text ? failure('canceling statement due to statement timeout', '57014') : undefined));
    const db = createExecutor(pool, { retryAfterSeconds: 1, session: new SessionMode(pool, 'none'), preparedMax: 4 });
    expect(await db.query(Q).catch((e: unknown) => e)).to.be.instanceOf(DatabaseUnavailableError);
    expect(released).to.have.length(1);
    expect(released[0]).to.be.instanceOf(Error);
  });

  it('runs each statement unnamed in a transaction of its own that applies the settings with SET LOCAL, in the transaction mode', async () => {
    const { pool, sent, released } = fakePool();
    const db = createExecutor(pool, { retryAfterSeconds: 1, session: new SessionMode(pool, 'transaction'), settings: SETTINGS });
    expect(await db.query(Q)).to.deep.equal([{ ok: 1 }]);
    expect(sent).to.deep.equal([
      { on: 'client', text: 'BEGIN READ ONLY; SET LOCAL statement_timeout = 5000; SET LOCAL jit = off; SET LOCAL random_page_cost = 1.1' },
      { on: 'client', text: Q.text },
      { on: 'client', text: 'COMMIT' },
    ]);
    expect(released).to.deep.equal([undefined]);
  });

  it('rolls back a failed statement and returns the client to the pool, in the transaction mode', async () => {
    const { pool, sent, released } = fakePool((text) => (text === Q.text ? failure('canceling statement due to statement timeout', '57014') : undefined));
    const db = createExecutor(pool, { retryAfterSeconds: 2, session: new SessionMode(pool, 'transaction'), settings: SETTINGS });
    const err = await db.query(Q).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DatabaseUnavailableError);
    expect(sent.map((s) => s.text)).to.deep.equal(['BEGIN READ ONLY; SET LOCAL statement_timeout = 5000; SET LOCAL jit = off; SET LOCAL random_page_cost = 1.1', Q.text, 'ROLLBACK']);
    expect(released).to.deep.equal([undefined]);
  });

  it('discards the client when even the ROLLBACK fails', async () => {
    const { pool, released } = fakePool((text) => (text === Q.text || text === 'ROLLBACK' ? failure('Connection terminated unexpectedly') : undefined));
    const db = createExecutor(pool, { retryAfterSeconds: 2, session: new SessionMode(pool, 'transaction'), settings: SETTINGS });
    expect(await db.query(Q).catch((e: unknown) => e)).to.be.instanceOf(DatabaseUnavailableError);
    expect(released).to.have.length(1);
    expect(released[0]).to.be.instanceOf(Error);
  });

  for (const [what, err] of [
    ['does not exist (26000)', failure('prepared statement "eventstats_probe" does not exist', '26000')],
    ['already exists (42P05)', failure('prepared statement "eventstats_probe" already exists', '42P05')],
    ['does not exist (message only)', failure('prepared statement "eventstats_probe" does not exist')],
  ] as const) {
    it(`retries once, unnamed, a statement whose prepared name ${what}`, async () => {
      const { pool, sent } = fakePool((_text, name) => (name ? err : undefined));
      const db = createExecutor(pool, { retryAfterSeconds: 1, session: new SessionMode(pool, 'none') });
      expect(await db.query(Q)).to.deep.equal([{ ok: 1 }]);
      expect(sent).to.deep.equal([
        { on: 'pool', text: Q.text, name: Q.name },
        { on: 'pool', text: Q.text },
      ]);
    });
  }

  it('answers 503 "database" with Retry-After, not a 500, when the retry loses its statement too', async () => {
    const { pool, sent } = fakePool(() => failure('prepared statement "S_1" does not exist', '26000'));
    const db = createExecutor(pool, 6);
    const err = await db.query(Q).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DatabaseUnavailableError);
    expect(err).to.include({ status: 503, type: 'database', retryAfterSeconds: 6 });
    expect(sent, 'one retry, no more').to.have.length(2);
  });

  it('does not retry any other failure', async () => {
    const { pool, sent } = fakePool(() => failure('relation "x" does not exist', '42P01'));
    const db = createExecutor(pool, 1);
    expect(await db.query(Q).catch((e: unknown) => (e as { code?: string }).code)).to.equal('42P01');
    expect(sent).to.have.length(1);
  });
});

describe('SessionMode', () => {
  it('auto: switches to the transaction mode, dropping the startup options, when the server refuses them as PgBouncer does', async () => {
    const { pool } = fakePool();
    (pool as unknown as { connect: () => Promise<never> }).connect = () => Promise.reject(failure('unsupported startup parameter: options', '08P01'));
    const warned: string[] = [];
    const mode = new SessionMode(pool, 'auto', { warn: ((m: string) => warned.push(m)) as never });
    expect(await mode.settle()).to.equal('transaction');
    expect((pool as unknown as { options: object }).options).to.not.have.property('options');
    expect(warned).to.have.length(1);
  });

  it('auto: stays in the none mode when the first connection succeeds, and stays unsettled when it fails otherwise', async () => {
    const { pool } = fakePool();
    expect(await new SessionMode(pool, 'auto').settle()).to.equal('none');
    (pool as unknown as { connect: () => Promise<never> }).connect = () => Promise.reject(failure('connect ECONNREFUSED', 'ECONNREFUSED'));
    const down = new SessionMode(pool, 'auto');
    expect(await down.settle().catch((e: unknown) => (e as { code?: string }).code)).to.equal('ECONNREFUSED');
    expect(down.mode).to.equal(undefined);
  });
});
