import { expect } from 'chai';
import pg from 'pg';
import { startPrimary, startReplica, type Primary, type Replica } from '../../helpers/replica.ts';

describe('startReplica (a real streaming standby of an embedded primary)', function () {
  let primary: Primary;
  let replica: Replica | undefined;
  let pool: pg.Pool;
  let standby: pg.Pool;

  before(async () => {
    primary = await startPrimary();
    pool = new pg.Pool({ connectionString: primary.url, max: 2 });
    await pool.query('CREATE TABLE t (id int PRIMARY KEY)');
    await pool.query('INSERT INTO t VALUES (1)');
    replica = await startReplica(primary);
    standby = new pg.Pool({ connectionString: replica.url, max: 2 });
  });

  after(async () => {
    await standby?.end();
    await pool?.end();
    await replica?.stop();
    await primary?.stop();
  });

  const count = async (p: pg.Pool) => Number((await p.query('SELECT count(*) AS n FROM t')).rows[0].n);

  it('is in recovery, read-only and holds what the primary had at the copy', async () => {
    expect((await standby.query('SELECT pg_is_in_recovery() AS r')).rows[0].r).to.equal(true);
    expect(await count(standby)).to.equal(1);
    const err = await standby.query('INSERT INTO t VALUES (2)').catch((e: unknown) => e);
    expect((err as { code?: string }).code).to.equal('25006');
  });

  it('streams later writes, and stands still while replay is paused', async () => {
    await pool.query('INSERT INTO t VALUES (2)');
    await replica!.waitForReplay();
    expect(await count(standby)).to.equal(2);
    await replica!.pauseReplay();
    await pool.query('INSERT INTO t VALUES (3)');
    expect(await count(standby)).to.equal(2);
    await replica!.resumeReplay();
    await replica!.waitForReplay();
    expect(await count(standby)).to.equal(3);
  });

  it('streams through its slot after being halted and restarted', async () => {
    await standby.end();
    await replica!.halt();
    await pool.query('INSERT INTO t VALUES (4)');
    await replica!.restart();
    standby = new pg.Pool({ connectionString: replica!.url, max: 2 });
    expect(await count(standby)).to.equal(4);
  });
});
