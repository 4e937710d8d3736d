/**
 * Property tests run from a fixed seed in the suite, so that a green run means the same cases passed
 * as on every other run, and a red one replays exactly: EVENTSTATS_PROPERTY_SEED=<n> replays a seed,
 * EVENTSTATS_PROPERTY_SEED=random draws a new one (`npm run test:properties`), printed either way.
 *
 * A property over windows and filters can pass while comparing nothing (an empty answer against an
 * empty oracle), so each one also counts the cases whose oracle had facts, and fails when their share
 * falls below the floor it states.
 */
import { expect } from 'chai';

/** The suite's fixed seed (the day it was fixed). */
export const FIXED_PROPERTY_SEED = 20261207;

function chooseSeed(raw: string | undefined): number {
  if (raw === undefined || raw === '') return FIXED_PROPERTY_SEED;
  if (raw === 'random') return Math.floor(Math.random() * 2 ** 31);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`EVENTSTATS_PROPERTY_SEED must be an integer or 'random', not '${raw}'`);
  return n;
}

export const PROPERTY_SEED = chooseSeed(process.env.EVENTSTATS_PROPERTY_SEED);
let announced = false;

/** fast-check's options for one property: the run's seed, printed once, and the number of cases. */
export function propertyOptions(numRuns: number): { seed: number; numRuns: number } {
  if (!announced) {
    announced = true;
    process.stdout.write(`      property seed ${PROPERTY_SEED} (replay: EVENTSTATS_PROPERTY_SEED=${PROPERTY_SEED}; new cases: EVENTSTATS_PROPERTY_SEED=random)\n`);
  }
  return { seed: PROPERTY_SEED, numRuns };
}

/** Whether an oracle's answer holds any fact: a count above 0 in some row (zero-filled rows hold none). */
export function hasFacts(rows: readonly Record<string, unknown>[]): boolean {
  return rows.some((r) => Number(r.job_count ?? r.total ?? 0) > 0);
}

/** Counts a property's cases and those that compared answers holding facts. */
export class Coverage {
  private cases = 0;
  private withFacts = 0;

  constructor(private readonly label: string) {}

  /** Records one case by its oracle's rows; returns them. */
  record<T extends Record<string, unknown>>(rows: T[]): T[] {
    this.cases++;
    if (hasFacts(rows)) this.withFacts++;
    return rows;
  }

  /** Fails unless at least `floor` (0-1) of the cases compared answers with facts; says the share either way. */
  expectShare(floor: number): void {
    const share = this.cases ? this.withFacts / this.cases : 0;
    process.stdout.write(`      ${this.label}: ${this.withFacts} of ${this.cases} cases compared answers with facts (${Math.round(share * 100)}%, floor ${Math.round(floor * 100)}%)\n`);
    expect(share, `${this.label}: share of cases that compared answers with facts`).to.be.at.least(floor);
  }
}
