/**
 * Lets the event loop run what is waiting (other requests' sockets, their statements' results)
 * before a large piece of synchronous work (issue 26): an answer of a thousand rows is formatted in
 * one task, and every other request on the loop waits behind that task and the one before it.
 * Splitting a heavy answer's work at a yield halves the longest wait it causes.
 */
import { setImmediate as immediate } from 'node:timers/promises';
/** Rows from which an answer's formatting is worth a turn of the loop before it (a covered answer is far smaller). */
export const YIELD_FROM_ROWS = 200;
export async function yieldToLoop() {
    await immediate();
}
//# sourceMappingURL=yield.js.map