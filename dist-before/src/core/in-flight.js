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
export class InFlight {
    limits;
    schedule;
    /** Users with requests under way or waiting; an entry leaves when both are zero. */
    users = new Map();
    active = 0;
    waiting = 0;
    queued = 0;
    rejected = 0;
    constructor(limits, 
    /** How a waiter is resumed: on a later turn of the loop, so that what is waiting already (other users' requests) goes first. */
    schedule = (run) => setImmediate(run)) {
        this.limits = limits;
        this.schedule = schedule;
        if (!(limits.perUser >= 1) || !(limits.queuePerUser >= 0))
            throw new Error('an in-flight bound needs perUser >= 1 and queuePerUser >= 0');
    }
    /**
     * Takes a place for one of `user`'s requests. Under the bound the ticket says `waiting: false` and
     * the caller goes on; over it the request waits and `resume` is called when a place frees (on a
     * later turn); with the queue full it is refused: undefined, and `resume` is never called.
     */
    enter(user, resume) {
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
        const waiter = { go: resume, gone: false };
        s.queue.push(waiter);
        s.live++;
        this.waiting++;
        return {
            waiting: true,
            release: () => {
                if (waiter.ticket !== undefined)
                    return waiter.ticket.release();
                if (waiter.gone)
                    return;
                waiter.gone = true;
                s.live--;
                this.waiting--;
                this.forget(user, s);
            },
        };
    }
    take(s) {
        s.active++;
        this.active++;
    }
    activeTicket(user, s) {
        let released = false;
        return {
            waiting: false,
            get released() {
                return released;
            },
            release: () => {
                if (released)
                    return;
                released = true;
                s.active--;
                this.active--;
                this.next(user, s);
            },
        };
    }
    /** Hands a freed place to the user's first live waiter, if any. */
    next(user, s) {
        while (s.queue.length > 0 && s.active < this.limits.perUser) {
            const w = s.queue.shift();
            if (w.gone)
                continue;
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
                if (!ticket.released)
                    w.go();
            });
        }
        this.forget(user, s);
    }
    forget(user, s) {
        if (s.live === 0)
            s.queue.length = 0;
        if (s.active === 0 && s.live === 0 && this.users.get(user) === s)
            this.users.delete(user);
    }
    stats() {
        return { active: this.active, waiting: this.waiting, queued: this.queued, rejected: this.rejected, users: this.users.size, limits: this.limits };
    }
}
//# sourceMappingURL=in-flight.js.map