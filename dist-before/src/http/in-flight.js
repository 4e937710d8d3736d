import { userOf } from "./auth.js";
import { overloadedAnswer } from "./overloaded.js";
/** The refusal's message: the limits are the process's, so it is the same for every refused request. */
export function inFlightRefusalMessage(limits, retryAfterSeconds) {
    return `too many requests of this user under way (at most ${limits.perUser} at once and ${limits.queuePerUser} waiting); retry after ${retryAfterSeconds} s`;
}
export function inFlightGate(inFlight, retryAfterSeconds) {
    // The same words for every refusal: serialised once (src/http/overloaded.ts).
    const refuse = overloadedAnswer(inFlightRefusalMessage(inFlight.limits, retryAfterSeconds), retryAfterSeconds);
    return (_req, res, next) => {
        const ticket = inFlight.enter(userOf(res), () => next());
        if (ticket === undefined)
            return refuse(res);
        res.once('finish', ticket.release);
        res.once('close', ticket.release);
        if (!ticket.waiting)
            next();
    };
}
//# sourceMappingURL=in-flight.js.map