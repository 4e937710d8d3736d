import { pino, type Logger } from 'pino';

/** Structured JSON logs on stdout. Secrets never reach them: tokens and passwords are redacted. */
export function createLogger(level: string, name = 'eventstats'): Logger {
  return pino({
    name,
    level,
    redact: ['req.headers.authorization', 'req.headers.bearer', 'password', '*.password'],
  });
}
