/**
 * 'stately' admits one job per state in a queue: one refresh running and one waiting. A request
 * that arrives while a refresh runs becomes the waiting job (the running refresh may have read its
 * sources before the new rows landed, so one more run is due), and every request after it is
 * coalesced into that job: send() returns null instead of queueing another refresh. 'singleton'
 * would also run one job at a time but queue every request behind it, so a burst of triggers would
 * become a burst of refreshes; 'short' coalesces waiting jobs but lets two refreshes of a view run
 * at once. Being a unique index in pgboss.job, the rule holds across any number of worker processes.
 */
export const REFRESH_QUEUE_POLICY = 'stately';
/**
 * A transient failure (a failover, a lock held past the lock timeout, the drain's 2 s bound) is
 * retried after 15-30 s, 30-60 s and 60-120 s, and a persistent failure stops after about 3.5
 * minutes instead of hammering the database. With the default schedule (every minute) a scheduled
 * run may come between the retries: the queue's policy coalesces them, and either one does the work.
 */
export const DEFAULT_RETRY = Object.freeze({ limit: 3, delaySeconds: 15, backoff: true });
//# sourceMappingURL=queues.js.map