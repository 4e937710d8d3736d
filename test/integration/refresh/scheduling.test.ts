/** What a starting worker registers in pg-boss: a schedule and queue settings for every view. */
import { expect } from 'chai';
import type { PgBoss, Schedule } from 'pg-boss';
import { DEFAULT_RETRY } from '../../../src/refresh/queues.ts';
import { refreshQueue } from '../../../src/db/tables.ts';
import type { RefreshWorker } from '../../../src/refresh/worker.ts';
import { ScheduleError } from '../../../src/refresh/schedules.ts';
import { VIEWS } from '../../../src/db/tables.ts';
import { registeredViews } from '../../../src/declarations/index.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { observer, refreshSettings, testWorker } from '../../helpers/refresh-worker.ts';

// Crons that do not fire while the test runs: a scheduled refresh would only add noise.
const OVERRIDE = '30 2 29 2 *';
const registryCron = (view: string) => registeredViews().find((v) => v.name === view)!.cron;

async function schedulesByQueue(boss: PgBoss): Promise<Map<string, Schedule>> {
  return new Map((await boss.getSchedules()).map((s) => [s.name, s]));
}

describe('scheduling refresh jobs', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let boss: PgBoss;
  const started: RefreshWorker[] = [];

  async function start(schedules: Record<string, string>): Promise<RefreshWorker> {
    const worker = testWorker(db.url, { refresh: refreshSettings({ schedules }) });
    started.push(worker);
    await worker.start();
    return worker;
  }

  before(async () => {
    db = await createTestDatabase();
    boss = await observer(db.url);
  });
  afterEach(async () => {
    for (const w of started.splice(0)) await w.stop();
  });
  after(async () => {
    await boss?.stop();
    await db?.drop();
  });

  it('schedules every registered view on its registry cron, in UTC, keyed by the view', async () => {
    await start({});
    const schedules = await schedulesByQueue(boss);
    for (const v of registeredViews()) {
      const s = schedules.get(refreshQueue(v.name));
      expect(s, v.name).to.not.equal(undefined);
      expect(s!.cron, v.name).to.equal(v.cron);
      expect(s!.timezone, v.name).to.equal('UTC');
      expect(s!.options, v.name).to.include({ singletonKey: v.name });
    }
  });

  it('applies the REFRESH_SCHEDULES overrides, and a restart with other overrides replaces them', async () => {
    await (await start({ [VIEWS.runStatusSummary]: OVERRIDE })).stop();
    let schedules = await schedulesByQueue(boss);
    expect(schedules.get(refreshQueue(VIEWS.runStatusSummary))?.cron).to.equal(OVERRIDE);
    expect(schedules.get(refreshQueue(VIEWS.jobFacts))?.cron).to.equal(registryCron(VIEWS.jobFacts));

    await start({ [VIEWS.jobFacts]: OVERRIDE });
    schedules = await schedulesByQueue(boss);
    expect(schedules.get(refreshQueue(VIEWS.runStatusSummary))?.cron).to.equal(registryCron(VIEWS.runStatusSummary));
    expect(schedules.get(refreshQueue(VIEWS.jobFacts))?.cron).to.equal(OVERRIDE);
  });

  it('gives every refresh queue the stately policy, the retry settings and an expiry beyond the statement timeout', async () => {
    await start({});
    for (const v of registeredViews()) {
      const q = await boss.getQueue(refreshQueue(v.name));
      expect(q, v.name).to.include({
        policy: 'stately',
        retryLimit: DEFAULT_RETRY.limit,
        retryDelay: DEFAULT_RETRY.delaySeconds,
        retryBackoff: DEFAULT_RETRY.backoff,
      });
      expect(q!.expireInSeconds! * 1000, v.name).to.be.greaterThan(refreshSettings().statementTimeoutMs);
    }
  });

  it('removes the schedule of a view that is no longer registered', async () => {
    // Creating a queue is DDL, allowed to the test's owner role: it stands for a view's old migration.
    const gone = refreshQueue('eventstats.mv_dropped_since');
    await boss.createQueue(gone);
    await boss.schedule(gone, OVERRIDE);
    await start({});
    expect((await schedulesByQueue(boss)).has(gone)).to.equal(false);
  });

  it('rejects an invalid cron at start, naming the view and the expression, before connecting', async () => {
    const worker = testWorker('postgres://nobody@127.0.0.1:1/none', { refresh: refreshSettings({ schedules: { [VIEWS.jobFacts]: '*/5 * * *' } }) });
    try {
      await worker.start();
      expect.fail('start() should have failed');
    } catch (err) {
      expect(err).to.be.instanceOf(ScheduleError);
      expect((err as Error).message).to.equal(
        `invalid configuration: REFRESH_SCHEDULES["${VIEWS.jobFacts}"]: '*/5 * * *' has 4 field(s); a schedule has 5 (minute hour day-of-month month day-of-week)`,
      );
    }
  });
});
