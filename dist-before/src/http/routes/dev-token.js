/**
 * POST /dev/token: a development token, for the dashboard's "Get a dev token" button. createApp mounts
 * it only when given a DevTokenIssuer, which src/server.ts gives in the all-in-one mode only
 * (devTokensAllowed in auth/dev-keys.ts); with DATABASE_URL set or in production it does not exist.
 * It answers clients on this machine only: the all-in-one server listens on every interface, and a
 * token handed to anyone on the network would make the ACL moot. A loopback socket is not enough
 * (behind a same-host reverse proxy or a tunnel every client is loopback, and a DNS-rebinding page
 * reaches 127.0.0.1 from a browser), so it also needs:
 * - a `Host` naming this machine (localhost, 127.0.0.1, [::1]): a rebinding page sends its own name;
 * - an `Origin`, when a browser sends one, of that same host;
 * - the secret `npm start` printed (a new one each start), in the X-Dev-Token-Secret header, which
 *   only someone who can read the server's output has; the dashboard takes it from its URL's fragment.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { AuthError } from "../../core/errors.js";
import { bodyObject, parseOrThrow } from "../../core/validation.js";
import { jsonBody } from "../body.js";
import { sendOk } from "../envelope.js";
export const DEV_TOKEN_PATH = '/dev/token';
/** The demo's unconstrained user (conf/access.json), as in `npm run token -- alice`. */
export const DEV_TOKEN_DEFAULT_USER = 'alice';
const DevTokenBody = z.strictObject({
    user: z
        .string({ error: 'must be a string' })
        .trim()
        .min(1, { error: 'must not be empty' })
        .max(128, { error: 'must be at most 128 characters' })
        .default(DEV_TOKEN_DEFAULT_USER),
});
/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses. */
export function isLoopback(address) {
    return address !== undefined && (/^(::ffff:)?127\./.test(address) || address === '::1');
}
/** The header carrying the secret `npm start` printed. */
export const DEV_TOKEN_SECRET_HEADER = 'x-dev-token-secret';
const LOCAL_HOST = /^(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/i;
const digest = (s) => createHash('sha256').update(s).digest();
/** Why a request may not have a token (the 403's message), or undefined when it may. */
function refusal(req, secret) {
    if (!isLoopback(req.socket.remoteAddress))
        return 'development tokens are handed out to clients on this machine only; elsewhere run npm run token -- <user>';
    const host = req.headers.host ?? '';
    if (!LOCAL_HOST.test(host))
        return "development tokens need a Host of localhost, 127.0.0.1 or [::1] (not through a proxy or another name)";
    const origin = req.headers.origin;
    if (origin !== undefined && origin.toLowerCase() !== `http://${host.toLowerCase()}`)
        return 'development tokens are not handed to pages of another origin';
    const given = req.headers[DEV_TOKEN_SECRET_HEADER];
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), digest(secret))) {
        return 'development tokens need the secret npm start printed, in the X-Dev-Token-Secret header (the dashboard link it printed carries it)';
    }
    return undefined;
}
export function devTokenRoutes(issuer) {
    const router = Router();
    router.post(DEV_TOKEN_PATH, (req, _res, next) => {
        // Before the body is read: a refused client costs no parsing.
        const why = refusal(req, issuer.secret);
        next(why === undefined ? undefined : new AuthError(403, why));
    });
    router.post(DEV_TOKEN_PATH, jsonBody(), (req, res) => {
        const { user } = parseOrThrow(DevTokenBody, bodyObject(req.body));
        res.setHeader('Cache-Control', 'no-store');
        sendOk(res, { token: issuer.sign(user), user, expires_in: issuer.ttlSeconds });
    });
    return router;
}
//# sourceMappingURL=dev-token.js.map