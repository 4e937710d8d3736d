import { expect } from 'chai';
import { createProgressReporter, formatDuration, formatProgress, formatSummary } from '../../../src/seed/progress.ts';
import type { Progress, SeedResult } from '../../../src/seed/types.ts';

const progress: Progress = { runs: 80_000, jobs: 400_000, statusRows: 80_000, totalRuns: 200_000, totalStatusRows: 200_000, elapsedMs: 8_000 };
const result: SeedResult = {
  runs: 200_000,
  jobs: 1_000_512,
  statusRows: 200_000,
  ms: 14_200,
  seed: 42,
  windowStart: Date.UTC(2025, 7, 26),
  windowEnd: Date.UTC(2025, 10, 24),
};

function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, isTTY, write: (s: string) => writes.push(s) };
}

describe('seed progress', () => {
  it('shows rows written, rate, share done and the time left', () => {
    expect(formatProgress(progress)).to.equal('seeding: 560,000 rows, runs 80,000 of 200,000 (40%), 70,000 rows/s, about 12 s left');
  });

  it('does not divide by zero before the first batch or for an empty seed', () => {
    const start = formatProgress({ ...progress, runs: 0, jobs: 0, statusRows: 0, elapsedMs: 0 });
    expect(start).to.equal('seeding: 0 rows, runs 0 of 200,000 (0%), - rows/s, time left unknown');
    expect(formatProgress({ runs: 0, jobs: 0, statusRows: 0, totalRuns: 0, totalStatusRows: 0, elapsedMs: 5 })).to.contain('(100%)');
  });

  it('formats durations from tenths of seconds to hours', () => {
    expect(formatDuration(4_210)).to.equal('4.2 s');
    expect(formatDuration(42_400)).to.equal('42 s');
    expect(formatDuration(185_000)).to.equal('3 min 05 s');
    expect(formatDuration(3_725_000)).to.equal('1 h 02 min');
  });

  it('summarises counts, time, rate, seed and window in one line', () => {
    expect(formatSummary(result)).to.equal(
      'seeded 200,000 runs, 1,000,512 jobs, 200,000 status rows (1,400,512 rows) in 14 s, 98,628 rows/s; ' +
        'seed 42, window 2025-08-26T00:00:00.000Z to 2025-11-24T00:00:00.000Z',
    );
  });

  it('off a terminal, prints only the summary line at the end', () => {
    const out = sink(false);
    const reporter = createProgressReporter(out);
    reporter.update(progress);
    reporter.update(progress);
    reporter.finish(result);
    expect(out.writes).to.deep.equal([`${formatSummary(result)}\n`]);
  });

  it('on a terminal, redraws one line at most once per interval and replaces it with the summary', () => {
    const out = sink(true);
    let now = 1_000;
    const reporter = createProgressReporter(out, { intervalMs: 250, now: () => now });
    reporter.update(progress);
    now += 100;
    reporter.update(progress);
    now += 200;
    reporter.update({ ...progress, runs: 90_000 });
    reporter.finish(result);
    expect(out.writes).to.have.length(3);
    expect(out.writes[0]).to.equal(`\r${formatProgress(progress)}\x1b[K`);
    expect(out.writes[1]).to.contain('runs 90,000 of 200,000');
    expect(out.writes[2]).to.equal(`\r\x1b[K${formatSummary(result)}\n`);
  });

  it('ends a drawn progress line before an error is printed, and writes nothing when none was drawn', () => {
    const quiet = sink(true);
    createProgressReporter(quiet).abort();
    expect(quiet.writes).to.deep.equal([]);
    const drawn = sink(true);
    const reporter = createProgressReporter(drawn, { now: () => 0 });
    reporter.update(progress);
    reporter.abort();
    expect(drawn.writes.at(-1)).to.equal('\n');
  });
});
