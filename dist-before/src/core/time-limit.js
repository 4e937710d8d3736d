/**
 * The one way EventStats bounds a wait on a promise it cannot cancel (a pool's end, a child's exit,
 * a database read without a signal). Where the awaited work takes an AbortSignal (fetch), pass it
 * AbortSignal.timeout instead: that also stops the work.
 */
import { setTimeout as sleep } from 'node:timers/promises';
/** Whether `promise` settles (resolved or rejected) within `ms`; the timer is cleared either way. */
export async function settlesWithin(promise, ms) {
    const timer = new AbortController();
    try {
        return await Promise.race([
            promise.then(() => true, () => true),
            sleep(ms, false, { signal: timer.signal }),
        ]);
    }
    finally {
        timer.abort();
    }
}
/** `promise`'s outcome, or a rejection with "no answer within `ms` ms" when it takes longer. */
export async function within(promise, ms) {
    if (!(await settlesWithin(promise, ms)))
        throw new Error(`no answer within ${ms} ms`);
    return promise;
}
//# sourceMappingURL=time-limit.js.map