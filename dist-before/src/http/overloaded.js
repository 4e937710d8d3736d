import { OverloadedError } from "../core/errors.js";
import { errorBody } from "./envelope.js";
export function overloadedAnswer(message, retryAfterSeconds) {
    const body = Buffer.from(JSON.stringify(errorBody(new OverloadedError(message, retryAfterSeconds))));
    const retryAfter = String(retryAfterSeconds);
    const length = String(body.length);
    return (res) => {
        res.statusCode = 429;
        res.setHeader('Retry-After', retryAfter);
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.setHeader('Content-Length', length);
        res.end(body);
    };
}
/**
 * The answers for a few messages, each serialised on first use; at most `max` kept (messages that
 * carry a changing number, such as a time budget's Retry-After, are made anew past that).
 */
export function overloadedAnswers(max = 64) {
    const made = new Map();
    return (message, retryAfterSeconds) => {
        const key = `${retryAfterSeconds} ${message}`;
        let answer = made.get(key);
        if (answer === undefined) {
            answer = overloadedAnswer(message, retryAfterSeconds);
            if (made.size < max)
                made.set(key, answer);
        }
        return answer;
    };
}
//# sourceMappingURL=overloaded.js.map