import { expect } from 'chai';
import { parseSeedArgs } from '../../../src/seed/args.ts';
import { UsageError } from '../../../src/core/errors.ts';

describe('seed command arguments', () => {
  it('reads every option', () => {
    expect(parseSeedArgs(['--runs', '1000', '--seed', '7', '--days', '30', '--end', '1764000000000', '--status-rows', '20'])).to.deep.equal({
      help: false,
      options: { runs: 1000, seed: 7, days: 30, end: 1_764_000_000_000, statusRows: 20 },
    });
  });

  it('leaves unset options to the seed defaults', () => {
    expect(parseSeedArgs(['--runs=5'])).to.deep.equal({
      help: false,
      options: { runs: 5, seed: undefined, days: undefined, end: undefined, statusRows: undefined },
    });
  });

  it('accepts a fractional number of days', () => {
    const parsed = parseSeedArgs(['--runs', '1', '--days', '0.5']);
    expect(parsed.help === false && parsed.options.days).to.equal(0.5);
  });

  it('answers --help without requiring --runs', () => {
    expect(parseSeedArgs(['--help'])).to.deep.equal({ help: true });
    expect(parseSeedArgs(['-h'])).to.deep.equal({ help: true });
  });

  for (const [argv, reason] of [
    [[], /--runs is required/],
    [['--runs', 'many'], /--runs must be a non-negative integer/],
    [['--runs', '-5'], /--runs|argument/],
    [['--runs', '1e3'], /--runs must be a non-negative integer/],
    [['--runs', '1', '--days', '0'], /--days must be a positive number/],
    [['--runs', '1', '--end', '0'], /--end must be a positive/],
    [['--runs', '1', '--seed', '4.2'], /--seed must be a non-negative integer/],
    [['--runs', '1', '--tenants', '3'], /Unknown option '--tenants'/],
    [['--runs', '1', 'extra'], /positional/],
  ] as const) {
    it(`rejects ${JSON.stringify(argv)} with a usage error naming the problem`, () => {
      expect(() => parseSeedArgs(argv)).to.throw(UsageError, reason);
    });
  }
});
