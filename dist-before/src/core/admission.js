/**
 * Admission of expensive work: statements that read the base tables (the raw endpoint, and compiled
 * reads whose plan goes beyond the window's edges; src/read/plan.ts readsBeyondEdges). Until
 * every request shape is served from pre-aggregates, one such read can hold a pooled connection for
 * the whole statement timeout, so a handful of them from one user would hold the pool and everyone
 * else's covered reads would get 503. Each process admits at most `userMax` of them per token subject
 * and `globalMax` in all; the next one is refused at once with 429 and Retry-After (no queue: a
 * queued request would still hold its client's connection, and the client can retry when told).
 * Cheap reads are never counted, so they go on while the budget is spent.
 *
 * Optionally (`userShare`, ADMISSION_USER_SHARE) each subject also has a budget of time: a token
 * bucket that refills at `userShare` milliseconds per millisecond, up to `burstMs`, and is charged
 * the wall time of each admitted statement when it settles. A subject whose bucket is empty is
 * refused (429, Retry-After: until it is positive again) even with no statement under way, so one
 * user's admitted work holds on average at most `userShare` of one connection (and of one core,
 * which is what the others' reads wait for on a small machine), however it is spread over time.
 *
 * Optionally (`maxLoopLoad`, ADMISSION_MAX_LOOP_LOAD) no such read is admitted while the event loop
 * has lately been busier than that: the cheap reads it is busy with come first, and a read of the
 * base tables (whose answer also costs the loop most: docs/ARCHITECTURE.md, "Admission control") is
 * refused with 429 and Retry-After 1 s, since the loop's load changes within a second.
 */
import { OverloadedError } from "./errors.js";
import { eventLoopLoad } from "./event-loop-load.js";
/** The bucket map is swept of refilled entries when it grows past this many. */
const BUCKET_SWEEP_AT = 1024;
export class Admission {
    limits;
    now;
    loopLoad;
    active = 0;
    /** Users with work under way (an entry leaves at zero: bounded by the work under way). */
    byUser = new Map();
    /** Users whose time budget is spent in part (an entry leaves when it has refilled: see sweep). */
    buckets = new Map();
    admitted = 0;
    rejected = { user: 0, global: 0, budget: 0, load: 0 };
    constructor(limits, now = () => performance.now(), loopLoad = eventLoopLoad()) {
        this.limits = limits;
        this.now = now;
        this.loopLoad = loopLoad;
        if (limits.userShare !== undefined && !(limits.userShare > 0 && (limits.burstMs ?? 0) > 0)) {
            throw new Error('a time budget needs userShare > 0 and burstMs > 0');
        }
        this.userMessage = `too many requests reading the base tables under way for this user (at most ${limits.userMax} at once); retry after ${limits.retryAfterSeconds} s, or narrow the window`;
        this.globalMessage = `too many requests reading the base tables under way (at most ${limits.globalMax} at once); retry after ${limits.retryAfterSeconds} s`;
    }
    /** The refusals whose words depend on the limits only (so an answer can be serialised once per message). */
    userMessage;
    globalMessage;
    /** `user`'s time budget now (ms); the capacity when it has no entry or no budget applies. */
    balance(user, now) {
        const burst = this.limits.burstMs ?? Infinity;
        const b = this.buckets.get(user);
        if (b === undefined || this.limits.userShare === undefined)
            return burst;
        return Math.min(burst, b.balanceMs + (now - b.at) * this.limits.userShare);
    }
    charge(user, ms) {
        if (this.limits.userShare === undefined)
            return;
        const now = this.now();
        const balanceMs = this.balance(user, now) - ms;
        if (balanceMs >= this.limits.burstMs)
            this.buckets.delete(user);
        else
            this.buckets.set(user, { balanceMs, at: now });
        if (this.buckets.size > BUCKET_SWEEP_AT)
            this.sweep(now);
    }
    /** Drops the entries that have refilled (a full bucket needs none), so the map holds only recent spenders. */
    sweep(now) {
        for (const user of this.buckets.keys())
            if (this.balance(user, now) >= this.limits.burstMs)
                this.buckets.delete(user);
    }
    /**
     * Why `user`'s next expensive statement would be refused now (counted as refused), or undefined
     * when it would be admitted. `enter` asks this first; the raw endpoint asks it before reading a
     * request's body too (src/http/routes/stats.ts), so a refusal costs no parsing.
     */
    refusal(user) {
        const balance = this.balance(user, this.now());
        if (balance <= 0) {
            this.rejected.budget++;
            // Positive again after -balance / share ms; at least the configured hint's 1 s granularity.
            const seconds = Math.max(1, Math.ceil((-balance / this.limits.userShare + 1) / 1000));
            return {
                limit: 'budget',
                holdMs: this.limits.refusalHoldMs ?? 0,
                retryAfterSeconds: seconds,
                message: `this user's reads of the base tables have used their share of the time (${this.limits.userShare} of one connection, on average); retry after ${seconds} s, or narrow the window`,
            };
        }
        if ((this.byUser.get(user) ?? 0) >= this.limits.userMax) {
            this.rejected.user++;
            return { limit: 'user', holdMs: this.limits.refusalHoldMs ?? 0, retryAfterSeconds: this.limits.retryAfterSeconds, message: this.userMessage };
        }
        if (this.active >= this.limits.globalMax) {
            this.rejected.global++;
            return { limit: 'global', holdMs: 0, retryAfterSeconds: this.limits.retryAfterSeconds, message: this.globalMessage };
        }
        if (this.limits.maxLoopLoad !== undefined) {
            const load = this.loopLoad();
            if (load > this.limits.maxLoopLoad) {
                this.rejected.load++;
                return {
                    limit: 'load',
                    holdMs: 0,
                    retryAfterSeconds: 1,
                    message: `the server is busy answering other requests (its event loop ${Math.round(load * 100)}% busy, above ${Math.round(this.limits.maxLoopLoad * 100)}%); reads of the base tables wait: retry after 1 s`,
                };
            }
        }
        return undefined;
    }
    /** Admits one expensive statement for `user`, or throws OverloadedError (429) naming the limit it hit. */
    enter(user) {
        const refused = this.refusal(user);
        if (refused)
            throw new OverloadedError(refused.message, refused.retryAfterSeconds, refused.holdMs);
        const started = this.now();
        const mine = this.byUser.get(user) ?? 0;
        this.active++;
        this.admitted++;
        this.byUser.set(user, mine + 1);
        let released = false;
        return () => {
            if (released)
                return;
            released = true;
            this.active--;
            this.charge(user, this.now() - started);
            const left = (this.byUser.get(user) ?? 1) - 1;
            if (left === 0)
                this.byUser.delete(user);
            else
                this.byUser.set(user, left);
        };
    }
    /** Runs `work` admitted for `user`, releasing when it settles. */
    async run(user, work) {
        const release = this.enter(user);
        try {
            return await work();
        }
        finally {
            release();
        }
    }
    stats() {
        return { active: this.active, admitted: this.admitted, rejected: { ...this.rejected }, budgets: this.buckets.size, limits: this.limits };
    }
}
//# sourceMappingURL=admission.js.map