/**
 * The refresh worker's pg-boss vocabulary: the schema, each view's queue, and the settings every
 * refresh queue gets. migrations/1764000002100_refresh-queues.sql creates the queues under these names.
 */
import type { QueuePolicy } from 'pg-boss';

/**
 * 'stately' admits one job per state in a queue: one refresh running and one waiting. A request
 * that arrives while a refresh runs becomes the waiting job (the running refresh may have read its
 * sources before the new rows landed, so one more run is due), and every request after it is
 * coalesced into that job: send() returns null instead of queueing another refresh. 'singleton'
 * would also run one job at a time but queue every request behind it, so a burst of triggers would
 * become a burst of refreshes; 'short' coalesces waiting jobs but lets two refreshes of a view run
 * at once. Being a unique index in pgboss.job, the rule holds across any number of worker processes.
 */
export const REFRESH_QUEUE_POLICY: QueuePolicy = 'stately';

export interface RetrySettings {
  /** Retries after the first attempt. */
  readonly limit: number;
  readonly delaySeconds: number;
  /** Exponential: pg-boss waits delay * 2^n / 2 * (1 + random) seconds before retry n + 1. */
  readonly backoff: boolean;
}

/**
 * A transient failure (a failover, a lock held past the lock timeout, the drain's 2 s bound) is
 * retried after 15-30 s, 30-60 s and 60-120 s, and a persistent failure stops after about 3.5
 * minutes instead of hammering the database. With the default schedule (every minute) a scheduled
 * run may come between the retries: the queue's policy coalesces them, and either one does the work.
 */
export const DEFAULT_RETRY: RetrySettings = Object.freeze({ limit: 3, delaySeconds: 15, backoff: true });

/** Payload of a refresh job. Scheduled jobs carry `{}`; a manual trigger may ask for `force`. */
export interface RefreshJobData {
  readonly force?: boolean;
}
