/**
 * A bound on one user's requests in the API at once (issue 26): whatever a request does (a covered
 * read, a raw page, a refusal), at most `perUser` of one token subject's requests are past
 * authentication at a time; the next ones wait in that user's FIFO of at most `queuePerUser`, and
 * beyond it are refused (429 with Retry-After, src/http/in-flight.ts). One event loop does every
 * request's work, so twenty requests of one user interleave twenty answers' worth of work with
 * everyone else's; with the bound, another user's request waits behind at most `perUser` of them.
 * A user below the bound is not affected at all: their request goes on in the same turn.
 *
 * Per process (as admission control is): N cluster processes let one user have N times as many.
 */

export interface InFlightLimits {
  /** Requests of one user past authentication at once (INFLIGHT_USER_MAX). */
  readonly perUser: number;
  /** Requests of one user waiting for a place, first in first out (INFLIGHT_USER_QUEUE); beyond it, refused. */
  readonly queuePerUser: number;
}

/** What /metrics reports (src/metrics/api.ts). */
export interface InFlightStats {
  /** Requests past the bound's check, all users together. */
  readonly active: number;
  /** Requests waiting in a user's queue, all users together. */
  readonly waiting: number;
  /** Requests that waited before going on (admitted from a queue). */
  readonly queued: number;
  /** Requests refused because their user's queue was full. */
  readonly rejected: number;
  /** Users with requests under way or waiting (what the per-user map holds). */
  readonly users: number;
  readonly limits: InFlightLimits;
}

/**
 * One request's place: `release()` frees it when the request is answered, fails, or its client
 * leaves, whether it is under way or still waiting (a waiting one leaves the queue). Calling it
 * again does nothing.
 */
export interface Ticket {
  /** Whether the request waits (its `resume` is called when a place frees) rather than going on now. */
  readonly waiting: boolean;
  release(): void;
}

interface Waiter {
  readonly go: () => void;
  /** Set when it left the queue: released while waiting (the queue skips it), or handed a place. */
  gone: boolean;
  /** Its place, once the queue handed it one. */
  ticket?: ActiveTicket;
}

interface ActiveTicket extends Ticket {
  readonly released: boolean;
}

interface UserState {
  active: number;
  readonly queue: Waiter[];
  /** Waiters in `queue` not yet gone (the array keeps gone ones until they reach its head). */
  live: number;
}

export class InFlight {
  /** Users with requests under way or waiting; an entry leaves when both are zero. */
  private readonly users = new Map<string, UserState>();
  private active = 0;
  private waiting = 0;
  private queued = 0;
  private rejected = 0;

  constructor(
    readonly limits: InFlightLimits,
    /** How a waiter is resumed: on a later turn of the loop, so that what is waiting already (other users' requests) goes first. */
    private readonly schedule: (run: () => void) => void = (run) => setImmediate(run),
  ) {
    if (!(limits.perUser >= 1) || !(limits.queuePerUser >= 0)) throw new Error('an in-flight bound needs perUser >= 1 and queuePerUser >= 0');
  }

  /**
   * Takes a place for one of `user`'s requests. Under the bound the ticket says `waiting: false` and
   * the caller goes on; over it the request waits and `resume` is called when a place frees (on a
   * later turn); with the queue full it is refused: undefined, and `resume` is never called.
   */
  enter(user: string, resume: () => void): Ticket | undefined {
    let state = this.users.get(user);
    if (state === undefined) {
      state = { active: 0, queue: [], live: 0 };
      this.users.set(user, state);
    }
    const s = state;
    if (s.active < this.limits.perUser) {
      this.take(s);
      return this.activeTicket(user, s);
    }
    if (s.live >= this.limits.queuePerUser) {
      this.rejected++;
      return undefined;
    }
    // Waiting: the queue hands the waiter an active ticket (next) when a place frees.
    const waiter: Waiter = { go: resume, gone: false };
    s.queue.push(waiter);
    s.live++;
    this.waiting++;
    return {
      waiting: true,
      release: () => {
        if (waiter.ticket !== undefined) return waiter.ticket.release();
        if (waiter.gone) return;
        waiter.gone = true;
        s.live--;
        this.waiting--;
        this.forget(user, s);
      },
    };
  }

  private take(s: UserState): void {
    s.active++;
    this.active++;
  }

  private activeTicket(user: string, s: UserState): ActiveTicket {
    let released = false;
    return {
      waiting: false,
      get released() {
        return released;
      },
      release: () => {
        if (released) return;
        released = true;
        s.active--;
        this.active--;
        this.next(user, s);
      },
    };
  }

  /** Hands a freed place to the user's first live waiter, if any. */
  private next(user: string, s: UserState): void {
    while (s.queue.length > 0 && s.active < this.limits.perUser) {
      const w = s.queue.shift()!;
      if (w.gone) continue;
      // The place is the waiter's from now on (counted active), though it runs on a later turn.
      w.gone = true;
      s.live--;
      this.waiting--;
      this.queued++;
      this.take(s);
      const ticket = this.activeTicket(user, s);
      w.ticket = ticket;
      // A request whose client left before its turn came has freed the place already: it does not run.
      this.schedule(() => {
        if (!ticket.released) w.go();
      });
    }
    this.forget(user, s);
  }

  private forget(user: string, s: UserState): void {
    if (s.live === 0) s.queue.length = 0;
    if (s.active === 0 && s.live === 0 && this.users.get(user) === s) this.users.delete(user);
  }

  stats(): InFlightStats {
    return { active: this.active, waiting: this.waiting, queued: this.queued, rejected: this.rejected, users: this.users.size, limits: this.limits };
  }
}
