/**
 * The one mapping from driver and server failures to the error model: what becomes a 503, what
 * becomes "not_ready", and that anything else passes through untouched (to surface as a 500).
 */
import { expect } from 'chai';
import { isPreparedStatementError, mapPgError } from '../../../src/db/pg-errors.ts';
import { AppError, DatabaseUnavailableError, NotReadyError, ValidationError } from '../../../src/core/errors.ts';

/** An error shaped like the ones pg and node:net raise: a message and a string code. */
function failure(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

describe('mapPgError', () => {
  it('maps a statement timeout (57014) to a 503 "database" carrying Retry-After and the cause', () => {
    const cause = failure('canceling statement due to statement timeout', '57014');
    const mapped = mapPgError(cause, 7);
    expect(mapped).to.be.instanceOf(DatabaseUnavailableError);
    const e = mapped as DatabaseUnavailableError;
    expect(e).to.include({ status: 503, type: 'database', retryAfterSeconds: 7, message: 'the database did not answer within the statement timeout' });
    expect(e.cause).to.equal(cause);
  });

  it('maps a never-populated materialized view (55000) to a 503 "not_ready"', () => {
    const mapped = mapPgError(failure('materialized view "mv_failed_jobs" has not been populated', '55000'), 3);
    expect(mapped).to.be.instanceOf(NotReadyError);
    expect(mapped).to.include({ status: 503, type: 'not_ready', retryAfterSeconds: 3 });
  });

  it('maps a connection failure (08006) to a 503 "database"', () => {
    const mapped = mapPgError(failure('connection failure', '08006'), 5);
    expect(mapped).to.be.instanceOf(DatabaseUnavailableError);
    expect(mapped).to.include({ status: 503, type: 'database', message: 'the database is unavailable' });
  });

  it('maps the other connection, resource and operator classes (08, 53, 57) to a 503', () => {
    for (const code of ['08001', '53300', '57P01', '57P03']) {
      expect(mapPgError(failure('x', code), 5), code).to.be.instanceOf(DatabaseUnavailableError);
    }
  });

  it('maps a refused connection (ECONNREFUSED) to a 503 "database"', () => {
    const mapped = mapPgError(failure('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'), 5);
    expect(mapped).to.be.instanceOf(DatabaseUnavailableError);
  });

  it("maps pg's connect timeout, which has no code, by its message", () => {
    expect(mapPgError(failure('timeout exceeded when trying to connect'), 5)).to.be.instanceOf(DatabaseUnavailableError);
    expect(mapPgError(failure('Connection terminated unexpectedly'), 5)).to.be.instanceOf(DatabaseUnavailableError);
  });

  it('maps a lost or duplicate prepared statement (26000, 42P05, or only the message) to a 503 "database", never a 500', () => {
    const cases = [
      failure('prepared statement "eventstats_freshness" does not exist', '26000'),
      failure('prepared statement "eventstats_freshness" already exists', '42P05'),
      failure('prepared statement "S_1" does not exist'),
      failure('prepared statement "eventstats_stable_ids" already exists'),
    ];
    for (const cause of cases) {
      expect(isPreparedStatementError(cause), cause.message).to.equal(true);
      const mapped = mapPgError(cause, 4);
      expect(mapped, cause.message).to.be.instanceOf(DatabaseUnavailableError);
      expect(mapped).to.include({ status: 503, type: 'database', retryAfterSeconds: 4 });
      expect((mapped as Error).cause).to.equal(cause);
    }
    expect(isPreparedStatementError(failure('relation "x" does not exist', '42P01'))).to.equal(false);
    expect(isPreparedStatementError(new DatabaseUnavailableError('x', 1))).to.equal(false);
  });

  it('passes an unknown error through as the same object', () => {
    const syntax = failure('syntax error at or near "SELEC"', '42601');
    expect(mapPgError(syntax, 5)).to.equal(syntax);
    const bug = new TypeError('cannot read properties of undefined');
    expect(mapPgError(bug, 5)).to.equal(bug);
    expect(mapPgError('a string', 5)).to.equal('a string');
  });

  it('passes an AppError through unchanged', () => {
    const already = new ValidationError('x');
    expect(mapPgError(already, 5)).to.equal(already);
    const other = new AppError(503, 'auth', 'keys unavailable');
    expect(mapPgError(other, 5)).to.equal(other);
  });
});
