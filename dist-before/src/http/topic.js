import { AuthError, NotFoundError } from "../core/errors.js";
import { isTopic } from "../db/tables.js";
import { userOf } from "./auth.js";
/** Topic names are matched lower-cased, as upstream; an unknown one is a 404 "topic". */
export const resolveTopic = (req, res, next) => {
    const raw = String(req.params.topic_name ?? '');
    const topic = raw.toLowerCase();
    if (!isTopic(topic))
        return next(new NotFoundError('topic', `topic '${topic}' not found`));
    res.locals.topic = topic;
    next();
};
/** The per-topic ACL: a user not listed for the topic gets 403 "auth". */
export function authorizeTopic(acl) {
    return (_req, res, next) => {
        const topic = topicOf(res);
        const user = userOf(res);
        const access = acl.access(topic, user);
        if (!access)
            return next(new AuthError(403, `user '${user}' is not allowed to read topic '${topic}'`));
        res.locals.access = access;
        next();
    };
}
export function topicOf(res) {
    return res.locals.topic;
}
export function accessOf(res) {
    return res.locals.access;
}
//# sourceMappingURL=topic.js.map