/**
 * The gateway going on writing while a scenario runs: a run with a few jobs every `everyMs`, most
 * of them now, some late (up to two days back), and now and then a status upsert.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type pg from 'pg';
import { insertRun, upsertStatus } from '../integration/maintenance/writes.ts';

export interface WriterReport {
  readonly runs: number;
  /** Writes that failed (only an outage may cause them), and the last error. */
  readonly failures: number;
  readonly lastError?: string;
}

export interface Writer {
  /** Stops writing; resolves once the last write has committed. */
  stop(): Promise<WriterReport>;
}

export function startWriter(pool: pg.Pool, everyMs = 200): Writer {
  let running = true;
  let runs = 0;
  const jobIds: string[] = [];
  let failures = 0;
  let lastError: string | undefined;
  const loop = (async () => {
    while (running) {
      const late = runs % 5 === 0;
      const ts = Date.now() - (late ? Math.floor(Math.random() * 2 * 86_400_000) : Math.floor(Math.random() * 60_000));
      try {
        const client = await pool.connect();
        let broken = false;
        try {
          await client.query('BEGIN');
          await insertRun(client, { ts, tenant: `tenant-0${runs % 7}`, env: runs % 2 ? 'prod' : 'uat', jobs: 1 + (runs % 4), failing: runs % 3 === 0 });
          await client.query('COMMIT');
          // Now a new job's status, now and then a status change of one written before.
          if (runs % 10 === 0) jobIds.push(randomUUID());
          const jobId = jobIds[runs % jobIds.length];
          if (runs % 5 === 0 && jobId) await upsertStatus(pool, [{ jobId, createdAt: ts, status: runs % 20 ? 'SUCCEEDED' : 'FAILED', tenant: 'tenant-01' }]);
          runs++;
        } catch (err) {
          broken = true;
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        } finally {
          client.release(broken);
        }
      } catch (err) {
        // The database is away (an outage scenario): the gateway would retry; so does this.
        failures++;
        lastError = err instanceof Error ? err.message : String(err);
      }
      await delay(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { runs, failures, lastError };
    },
  };
}
