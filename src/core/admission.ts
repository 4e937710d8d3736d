/**
 * Admission of expensive work: statements that read the base tables (the raw endpoint, and compiled
 * reads whose plan goes beyond the window's edges; src/rollup/spec.ts readsBeyondEdges). Until
 * every request shape is served from pre-aggregates, one such read can hold a pooled connection for
 * the whole statement timeout, so a handful of them from one user would hold the pool and everyone
 * else's covered reads would get 503. Each process admits at most `userMax` of them per token subject
 * and `globalMax` in all; the next one is refused at once with 429 and Retry-After (no queue: a
 * queued request would still hold its client's connection, and the client can retry when told).
 * Cheap reads are never counted, so they go on while the budget is spent.
 */
import { OverloadedError } from './errors.ts';

export interface AdmissionLimits {
  /** Expensive statements under way in this process, all users together (ADMISSION_GLOBAL_MAX). */
  readonly globalMax: number;
  /** Expensive statements under way for one token subject (ADMISSION_USER_MAX). */
  readonly userMax: number;
  /** Announced in Retry-After with a 429. */
  readonly retryAfterSeconds: number;
}

/** What /metrics reports (src/metrics/api.ts). */
export interface AdmissionStats {
  readonly active: number;
  readonly admitted: number;
  readonly rejected: Readonly<Record<'user' | 'global', number>>;
  readonly limits: AdmissionLimits;
}

/** Ends one admitted piece of work; calling it again does nothing. */
export type Release = () => void;

export class Admission {
  private active = 0;
  /** Users with work under way (an entry leaves at zero: bounded by the work under way). */
  private readonly byUser = new Map<string, number>();
  private admitted = 0;
  private readonly rejected = { user: 0, global: 0 };

  constructor(readonly limits: AdmissionLimits) {}

  /** Admits one expensive statement for `user`, or throws OverloadedError (429) naming the limit it hit. */
  enter(user: string): Release {
    const mine = this.byUser.get(user) ?? 0;
    if (mine >= this.limits.userMax) {
      this.rejected.user++;
      throw new OverloadedError(
        `too many requests reading the base tables under way for this user (at most ${this.limits.userMax} at once); retry after ${this.limits.retryAfterSeconds} s, or narrow the window`,
        this.limits.retryAfterSeconds,
      );
    }
    if (this.active >= this.limits.globalMax) {
      this.rejected.global++;
      throw new OverloadedError(
        `too many requests reading the base tables under way (at most ${this.limits.globalMax} at once); retry after ${this.limits.retryAfterSeconds} s`,
        this.limits.retryAfterSeconds,
      );
    }
    this.active++;
    this.admitted++;
    this.byUser.set(user, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      const left = (this.byUser.get(user) ?? 1) - 1;
      if (left === 0) this.byUser.delete(user);
      else this.byUser.set(user, left);
    };
  }

  /** Runs `work` admitted for `user`, releasing when it settles. */
  async run<T>(user: string, work: () => Promise<T>): Promise<T> {
    const release = this.enter(user);
    try {
      return await work();
    } finally {
      release();
    }
  }

  stats(): AdmissionStats {
    return { active: this.active, admitted: this.admitted, rejected: { ...this.rejected }, limits: this.limits };
  }
}
