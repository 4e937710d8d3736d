import { expect } from 'chai';
import { resolveSchedules, ScheduleError } from '../../../src/refresh/schedules.ts';
import { ConfigError, loadConfig } from '../../../src/core/config.ts';
import { VIEWS } from '../../../src/db/tables.ts';
import { DEFAULT_CRON } from '../../../src/declarations/index.ts';
import { registeredViews } from '../../../src/declarations/index.ts';

function rejects(overrides: Record<string, string>): ScheduleError {
  try {
    resolveSchedules(registeredViews(), overrides);
  } catch (err) {
    expect(err).to.be.instanceOf(ScheduleError);
    return err as ScheduleError;
  }
  return expect.fail('expected a ScheduleError');
}

describe('schedule resolution', () => {
  it('gives every registered view its registry cron and its own queue when nothing is overridden', () => {
    const schedules = resolveSchedules(registeredViews(), {});
    expect(schedules.map((s) => s.view.name)).to.deep.equal(registeredViews().map((v) => v.name));
    for (const s of schedules) {
      expect(s.cron).to.equal(DEFAULT_CRON);
      expect(s.overridden).to.equal(false);
      expect(s.queue).to.equal(`refresh.${s.view.name}`);
    }
  });

  it('takes a view cron from REFRESH_SCHEDULES over the registry, leaving the others alone', () => {
    const config = loadConfig({ CONF_DIR: 'conf', REFRESH_SCHEDULES: JSON.stringify({ [VIEWS.runStatusSummary]: '0 * * * *' }) });
    const byView = new Map(resolveSchedules(registeredViews(), config.refresh.schedules).map((s) => [s.view.name, s]));
    expect(byView.get(VIEWS.runStatusSummary)).to.include({ cron: '0 * * * *', overridden: true });
    expect(byView.get(VIEWS.jobFacts)).to.include({ cron: DEFAULT_CRON, overridden: false });
  });

  it('trims an override, as a shell-quoted value often carries spaces', () => {
    const [first] = resolveSchedules(registeredViews(), { [registeredViews()[0]!.name]: '  15 3 * * 1 ' });
    expect(first?.cron).to.equal('15 3 * * 1');
  });

  it('rejects an expression cron-parser cannot read, naming the variable, the view and the expression', () => {
    const err = rejects({ [VIEWS.jobFacts]: '61 * * * *' });
    expect(err.message).to.match(new RegExp(`^invalid configuration: REFRESH_SCHEDULES\\["${VIEWS.jobFacts}"\\]: '61 \\* \\* \\* \\*' is not a cron expression \\(.+\\)$`));
  });

  it('rejects a seconds field, which pg-boss schedules cannot honour', () => {
    expect(rejects({ [VIEWS.jobFacts]: '*/10 * * * * *' }).message).to.include('has 6 field(s); a schedule has 5');
  });

  it('rejects a view name the registry does not know, listing the known ones', () => {
    const err = rejects({ 'eventstats.mv_failed_job': '* * * * *' });
    expect(err.message).to.include('unknown view(s) eventstats.mv_failed_job; known: eventstats.mv_job_facts');
  });

  it('is a configuration error, so the worker exits 2 on it', () => {
    expect(rejects({ [VIEWS.jobFacts]: 'nope' })).to.be.instanceOf(ConfigError);
  });
});
