/**
 * The bound on named statements per connection (src/db/prepared.ts) against a fake client that
 * records what it is sent. That PostgreSQL's own count stays bounded is shown on a real server in
 * test/integration/queries/prepared.test.ts.
 */
import { expect } from 'chai';
import type pg from 'pg';
import { GENERIC_PLANS, PreparedStatements, SESSION_PLANS } from '../../../src/db/prepared.ts';

/** A client as pg has it: what it was sent, and pg's record of the names it has parsed. */
function fakeClient(fail?: (text: string) => Error | undefined) {
  const sent: string[] = [];
  const parsedStatements: Record<string, string> = {};
  const client = {
    connection: { parsedStatements },
    query: (text: string) => {
      sent.push(text);
      const err = fail?.(text);
      return err ? Promise.reject(err) : Promise.resolve({ rows: [] });
    },
  } as unknown as pg.ClientBase;
  /** What the executor's query does after use(): pg parses the name on its first run. */
  const run = async (names: PreparedStatements, name: string) => {
    await names.before(client, name);
    parsedStatements[name] ??= `text of ${name}`;
  };
  return { client, sent, parsedStatements, run };
}

const deallocations = (sent: string[]) => sent.filter((t) => t.startsWith('DEALLOCATE'));

describe('PreparedStatements', () => {
  it('sets generic plans before a named statement and the session\'s before an unnamed one, only when the kind changes', async () => {
    const names = new PreparedStatements(4);
    const { client, sent, run } = fakeClient();
    await names.before(client, undefined);
    await run(names, 'es_a');
    await run(names, 'es_b');
    await names.before(client, undefined);
    await names.before(client, undefined);
    await run(names, 'es_a');
    expect(sent).to.deep.equal([GENERIC_PLANS, SESSION_PLANS, GENERIC_PLANS]);
  });

  it('keeps at most max names per client, deallocating the least recently used one', async () => {
    const names = new PreparedStatements(2);
    const { client, sent, parsedStatements, run } = fakeClient();
    await run(names, 'es_a');
    await run(names, 'es_b');
    await run(names, 'es_a'); // es_b is now the least recently used
    expect(deallocations(sent)).to.deep.equal([]);
    await run(names, 'es_c');
    expect(deallocations(sent)).to.deep.equal(['DEALLOCATE "es_b"']);
    expect(Object.keys(parsedStatements).sort(), 'pg forgets it too, so a later use parses it again').to.deep.equal(['es_a', 'es_c']);
    expect(names.held(client)).to.equal(2);
  });

  it('counts each client apart', async () => {
    const names = new PreparedStatements(1);
    const one = fakeClient();
    const two = fakeClient();
    await one.run(names, 'es_a');
    await two.run(names, 'es_b');
    expect(deallocations(one.sent)).to.deep.equal([]);
    expect(deallocations(two.sent)).to.deep.equal([]);
    expect([names.held(one.client), names.held(two.client)]).to.deep.equal([1, 1]);
  });

  it('sends no DEALLOCATE for a name the server never parsed (its statement failed)', async () => {
    const names = new PreparedStatements(1);
    const { client, sent, run } = fakeClient();
    await names.before(client, 'es_failed'); // never reaches pg's parsed record
    await run(names, 'es_b');
    expect(deallocations(sent)).to.deep.equal([]);
  });

  it('takes a name the server already lost (26000) as deallocated, and passes any other failure on', async () => {
    const lost = Object.assign(new Error('prepared statement "es_a" does not exist'), { code: '26000' });
    const names = new PreparedStatements(1);
    const gone = fakeClient((text) => (text.startsWith('DEALLOCATE') ? lost : undefined));
    await gone.run(names, 'es_a');
    await gone.run(names, 'es_b');
    expect(deallocations(gone.sent)).to.deep.equal(['DEALLOCATE "es_a"']);

    const broken = fakeClient((text) => (text.startsWith('DEALLOCATE') ? new Error('Connection terminated') : undefined));
    await broken.run(names, 'es_a');
    expect(await broken.run(names, 'es_b').catch((e: unknown) => (e as Error).message)).to.equal('Connection terminated');
  });

  it('refuses a name it could not put in a DEALLOCATE as it is', async () => {
    const { client } = fakeClient();
    expect(await new PreparedStatements(1).before(client, 'x"; DROP TABLE t; --').catch((e: unknown) => (e as Error).message)).to.match(/bad statement name/);
  });
});
