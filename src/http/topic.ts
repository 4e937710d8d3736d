import type { RequestHandler, Response } from 'express';
import type { Access, AccessControl } from '../auth/acl.ts';
import { AuthError, NotFoundError } from '../core/errors.ts';
import { isTopic, type TopicName } from '../db/tables.ts';
import { userOf } from './auth.ts';

/** Topic names are matched lower-cased, as upstream; an unknown one is a 404 "topic". */
export const resolveTopic: RequestHandler = (req, res, next) => {
  const raw = String(req.params.topic_name ?? '');
  const topic = raw.toLowerCase();
  if (!isTopic(topic)) return next(new NotFoundError('topic', `topic '${topic}' not found`));
  res.locals.topic = topic;
  next();
};

/** The per-topic ACL: a user not listed for the topic gets 403 "auth". */
export function authorizeTopic(acl: AccessControl): RequestHandler {
  return (_req, res, next) => {
    const topic = topicOf(res);
    const user = userOf(res);
    const access = acl.access(topic, user);
    if (!access) return next(new AuthError(403, `user '${user}' is not allowed to read topic '${topic}'`));
    res.locals.access = access;
    next();
  };
}

export function topicOf(res: Response): TopicName {
  return res.locals.topic as TopicName;
}

export function accessOf(res: Response): Access {
  return res.locals.access as Access;
}
