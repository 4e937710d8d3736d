import { expressjwt, UnauthorizedError } from 'express-jwt';
import jwt from 'jsonwebtoken';
import { VerifiedTokens } from "../auth/verified-tokens.js";
import { AppError, AuthError } from "../core/errors.js";
const REQUEST_PROPERTY = 'auth';
/**
 * The token of a request, or undefined when it carries none. The bare `bearer` header wins, as upstream;
 * an Authorization header with another scheme (Basic, ...) is an error rather than "no token".
 */
export function bearerToken(req) {
    const bare = req.headers.bearer;
    if (typeof bare === 'string' && bare.trim() !== '')
        return bare.trim().replace(/^Bearer\s+/i, '');
    const authorization = req.headers.authorization?.trim();
    if (authorization === undefined || authorization === '')
        return undefined;
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (match === null)
        throw new AuthError(401, "malformed Authorization header: expected 'Bearer <token>'");
    return match[1];
}
/**
 * express-jwt verifies against one key per request, while rotation means several candidates. So this
 * callback asks the key set for the token's key (jose selects it by kid and, among several, by the
 * signature it carries) and returns it; express-jwt then runs the full jsonwebtoken verification with
 * it (RS256 only, exp, nbf). The header checks here only give clearer messages: express-jwt would
 * reject those tokens too.
 */
function verificationKey(keys) {
    return async (req, decoded) => {
        // jsonwebtoken's decode answers null, not undefined, for an undecodable token.
        if (decoded === undefined || decoded === null)
            throw new AuthError(401, 'malformed token');
        if (decoded.header.alg !== 'RS256')
            throw new AuthError(401, 'token must be signed with RS256');
        const kid = decoded.header.kid;
        let key;
        try {
            key = await keys.keyFor(bearerToken(req) ?? '', typeof kid === 'string' ? kid : undefined);
        }
        catch (err) {
            throw new AppError(503, 'auth', 'token verification keys are unavailable; try again later', { cause: err });
        }
        if (key === undefined)
            throw new AuthError(401, 'invalid token signature');
        return key;
    };
}
function toAppError(err) {
    if (err instanceof AppError || !(err instanceof UnauthorizedError))
        return err;
    if (err.code === 'credentials_required')
        return new AuthError(401, 'missing bearer token');
    if (err.inner instanceof jwt.TokenExpiredError)
        return new AuthError(401, 'token expired', { cause: err });
    if (err.inner instanceof jwt.NotBeforeError)
        return new AuthError(401, 'token not yet valid (nbf)', { cause: err });
    // With a single candidate key jsonwebtoken makes the signature check: same words as the picking path.
    if (err.inner.message === 'invalid signature')
        return new AuthError(401, 'invalid token signature', { cause: err });
    // jsonwebtoken's own words would name the accepted values ("jwt audience invalid. expected: ..."):
    // the answer names the rule only.
    if (err.inner.message.startsWith('jwt audience invalid'))
        return new AuthError(401, 'token audience (aud) is not accepted', { cause: err });
    if (err.inner.message.startsWith('jwt issuer invalid'))
        return new AuthError(401, 'token issuer (iss) is not accepted', { cause: err });
    // Its other messages name the failed rule ("jwt malformed"), never the token.
    return new AuthError(401, `invalid token: ${err.inner.message.replace(/\. expected:.*$/s, '')}`, { cause: err });
}
function subjectOf(payload) {
    if (typeof payload !== 'object' || payload === null || !('sub' in payload))
        return undefined;
    return typeof payload.sub === 'string' && payload.sub.trim() !== '' ? payload.sub : undefined;
}
const oneOrMore = (values) => (values?.length ? values : undefined);
/**
 * Requires a valid bearer token; sets `res.locals.user` to its `sub`. A token that passed full
 * verification (`rules` included) is remembered (see VerifiedTokens), so a client's next requests
 * with it skip the checks.
 */
export function authenticate(keys, verified = new VerifiedTokens(), rules = {}) {
    const verify = expressjwt({
        secret: verificationKey(keys),
        algorithms: ['RS256'],
        getToken: bearerToken,
        requestProperty: REQUEST_PROPERTY,
        // jsonwebtoken checks these after the signature, exp and nbf; undefined means no check.
        audience: oneOrMore(rules.audience),
        issuer: oneOrMore(rules.issuer),
    });
    return (req, res, next) => {
        let token;
        try {
            token = bearerToken(req);
        }
        catch (err) {
            return next(err);
        }
        if (token !== undefined) {
            const known = verified.userOf(token, keys.generation);
            if (known !== undefined) {
                res.locals.user = known;
                return next();
            }
        }
        // Read before verifying: if the keys reload meanwhile, the entry is for the older set and is not honoured.
        const generation = keys.generation;
        void verify(req, res, (err) => {
            if (err !== undefined)
                return next(toAppError(err));
            const payload = req[REQUEST_PROPERTY];
            const user = subjectOf(payload);
            if (user === undefined)
                return next(new AuthError(401, 'token has no subject: the sub claim must be a non-empty string'));
            const exp = payload.exp;
            if (rules.requireExp && typeof exp !== 'number')
                return next(new AuthError(401, 'token has no expiry: this server requires an exp claim'));
            res.locals.user = user;
            if (token !== undefined)
                verified.remember(token, user, generation, exp);
            next();
        });
    };
}
/** The authenticated user of a request that went through authenticate(). */
export function userOf(res) {
    const user = res.locals.user;
    if (typeof user !== 'string')
        throw new Error('userOf() called on a route without authenticate()');
    return user;
}
//# sourceMappingURL=auth.js.map