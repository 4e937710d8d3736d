/**
 * POST /dev/token: a development token, for the dashboard's "Get a dev token" button. createApp mounts
 * it only when given a DevTokenIssuer, which src/server.ts gives in the all-in-one mode only
 * (devTokensAllowed in auth/dev-keys.ts); with DATABASE_URL set or in production it does not exist.
 * It answers clients on this machine only: the all-in-one server listens on every interface, and a
 * token handed to anyone on the network would make the ACL moot.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { DevTokenIssuer } from '../../auth/dev-keys.ts';
import { AuthError } from '../../errors.ts';
import { bodyObject, parseOrThrow } from '../../validation.ts';
import { jsonBody } from '../body.ts';
import { sendOk } from '../envelope.ts';

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
export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (/^(::ffff:)?127\./.test(address) || address === '::1');
}

export function devTokenRoutes(issuer: DevTokenIssuer): Router {
  const router = Router();
  router.post(DEV_TOKEN_PATH, jsonBody(), (req, res) => {
    if (!isLoopback(req.socket.remoteAddress)) {
      throw new AuthError(403, 'development tokens are handed out to clients on this machine only; elsewhere run npm run token -- <user>');
    }
    const { user } = parseOrThrow(DevTokenBody, bodyObject(req.body));
    res.setHeader('Cache-Control', 'no-store');
    sendOk(res, { token: issuer.sign(user), user, expires_in: issuer.ttlSeconds });
  });
  return router;
}
