/**
 * The headers of the browser pages (GET /docs, GET /dashboard). The pages handle bearer tokens, so
 * their Content-Security-Policy lets them load and call nothing but this origin: a script that got in
 * could not send a token elsewhere, and the pages keep working offline and behind a firewall (no CDN).
 * Styles may be inline because Swagger UI and uPlot set them from script; scripts may not.
 */
import type { RequestHandler } from 'express';

export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const pageHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', PAGE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  next();
};
