import { expect } from 'chai';
import { RowGenerator, type Batch } from '../../../src/seed/generate.ts';
import { JOB_STATUSES, MESSAGES, SHAPE, UNIVERSE } from '../../../src/seed/universe.ts';
import { STATUS_TYPES } from '../../../src/db/tables.ts';

const WINDOW = Object.freeze({ start: 1_756_000_000_000, end: 1_756_000_000_000 + 90 * 86_400_000 });
const RUNS = 20_000;

function share<T>(items: readonly T[], pred: (x: T) => boolean): number {
  return items.filter(pred).length / items.length;
}

const pipelineOf = new Map(UNIVERSE.pipelines.map((p) => [p.sourceApp, p]));

describe('seed row generator', () => {
  let sample: Batch;
  before(() => {
    sample = new RowGenerator(42, WINDOW).next(RUNS, RUNS);
  });

  it('generates identical rows for the same seed and window end', () => {
    const a = new RowGenerator(9, WINDOW).next(200, 200);
    const b = new RowGenerator(9, WINDOW).next(200, 200);
    expect(a).to.deep.equal(b);
    expect(new RowGenerator(10, WINDOW).next(200, 200).runs.eventId).to.not.deep.equal(a.runs.eventId);
  });

  it('generates the same first runs whatever the total, and runs that do not depend on the status-row count', () => {
    const whole = new RowGenerator(9, WINDOW).next(300, 0);
    const split = new RowGenerator(9, WINDOW);
    const first = split.next(100, 50);
    const rest = split.next(200, 10);
    expect([...first.runs.eventId, ...rest.runs.eventId]).to.deep.equal(whole.runs.eventId);
    expect([...first.jobs.catalogId, ...rest.jobs.catalogId]).to.deep.equal(whole.jobs.catalogId);
  });

  it('gives each run 1 to 9 jobs, about 5 on average', () => {
    const perRun = new Map<string, number>();
    for (const id of sample.jobs.eventId) perRun.set(id, (perRun.get(id) ?? 0) + 1);
    const counts = [...perRun.values()];
    expect(perRun.size).to.equal(RUNS);
    expect(Math.min(...counts)).to.equal(1);
    expect(Math.max(...counts)).to.equal(9);
    expect(sample.jobs.eventId.length / RUNS).to.be.closeTo(SHAPE.jobsPerRun.mean, 0.1);
  });

  it('draws job statuses in the advertised shares, a few in mixed case', () => {
    const statuses = sample.jobs.status;
    for (const s of JOB_STATUSES) {
      expect(share(statuses, (x) => x.toLowerCase() === s), s).to.be.closeTo(SHAPE.jobStatusShares[s], 0.01);
    }
    expect(share(statuses, (x) => x !== x.toLowerCase())).to.be.closeTo(SHAPE.mixedCaseStatusShare, 0.005);
    expect(statuses).to.include.members(['Failed', 'SUCCEEDED']);
  });

  it('gives every failed job a message, some saying no data or no records to send in varying case', () => {
    const failed = sample.jobs.message.filter((_, i) => sample.jobs.status[i]?.toLowerCase() === 'failed');
    expect(failed.every((m) => typeof m === 'string' && m.length > 0)).to.equal(true);
    expect(share(failed, (m) => /no data/i.test(m ?? ''))).to.be.closeTo(SHAPE.failedMessageShares.noData, 0.03);
    expect(share(failed, (m) => /no records to send/i.test(m ?? ''))).to.be.closeTo(SHAPE.failedMessageShares.noRecords, 0.03);
    expect(new Set(failed.filter((m) => /no data/i.test(m ?? '')))).to.have.property('size', MESSAGES.noData.length);
    const others = sample.jobs.message.filter((_, i) => sample.jobs.status[i]?.toLowerCase() !== 'failed');
    expect(share(others, (m) => m === null)).to.be.above(0.95);
  });

  it('starts runs uniformly inside the window at millisecond precision', () => {
    const starts = sample.runs.timestampStart;
    expect(starts.every((t) => t >= WINDOW.start && t < WINDOW.end)).to.equal(true);
    expect(share(starts, (t) => t % 1000 !== 0)).to.be.above(0.99);
    const span = WINDOW.end - WINDOW.start;
    const firstTenth = share(starts, (t) => t < WINDOW.start + span / 10);
    expect(firstTenth).to.be.closeTo(0.1, 0.01);
  });

  it('times jobs after their run, 1 s to 2 h long, with a few missing start or end, and ends each run at its last job', () => {
    const runStart = new Map(sample.runs.eventId.map((id, i) => [id, sample.runs.timestampStart[i] as number]));
    const lastEnd = new Map<string, number>();
    const wrong: string[] = [];
    const { eventId, timestampStart, timestampEnd } = sample.jobs;
    eventId.forEach((id, i) => {
      const start = timestampStart[i] ?? null;
      const end = timestampEnd[i] ?? null;
      if (start !== null && (start < (runStart.get(id) as number) || start >= WINDOW.end)) wrong.push(`job ${i} starts at ${start}`);
      // A null start hides the start the end was computed from, so durations are checked where both are present.
      if (start !== null && end !== null && (end - start < SHAPE.jobElapsedMs.min || end - start > SHAPE.jobElapsedMs.max)) wrong.push(`job ${i} lasts ${end - start}`);
      if (end !== null) {
        if (end >= WINDOW.end) wrong.push(`job ${i} ends after the window`);
        lastEnd.set(id, Math.max(lastEnd.get(id) ?? -Infinity, end));
      }
    });
    sample.runs.eventId.forEach((id, i) => {
      if (sample.runs.timestampEnd[i] !== (lastEnd.get(id) ?? null)) wrong.push(`run ${id} does not end at its last job`);
    });
    expect(wrong.slice(0, 5)).to.deep.equal([]);
    expect(share(timestampStart, (t) => t === null)).to.be.closeTo(SHAPE.nullJobStartShare, 0.004);
    expect(share(timestampEnd, (t) => t === null)).to.be.closeTo(SHAPE.nullJobEndShare, 0.006);
  });

  it("takes each run's catalogs from its own pipeline, without repeats, and its tenant and country from the universe", () => {
    const runPipeline = new Map(sample.runs.eventId.map((id, i) => [id, pipelineOf.get(sample.runs.sourceApp[i] as string)]));
    const catalogs = new Map(UNIVERSE.catalogs.map((c) => [c.catalogId, c]));
    const wrong: string[] = [];
    sample.runs.eventId.forEach((id, i) => {
      if (runPipeline.get(id)?.tenantId !== sample.runs.tenantId[i]) wrong.push(`run ${id} has another tenant than its pipeline`);
    });
    const seen = new Set<string>();
    sample.jobs.eventId.forEach((id, i) => {
      const catalogId = sample.jobs.catalogId[i] as string;
      const catalog = catalogs.get(catalogId);
      if (!catalog || UNIVERSE.pipelines[catalog.pipeline] !== runPipeline.get(id)) wrong.push(`${catalogId} is not of run ${id}'s pipeline`);
      if (catalog && sample.jobs.country[i] !== catalog.country) wrong.push(`${catalogId} has another country`);
      const key = `${id} ${catalogId}`;
      if (seen.has(key)) wrong.push(`${key} repeats`);
      seen.add(key);
    });
    expect(wrong.slice(0, 5)).to.deep.equal([]);
  });

  it('uses unique event ids, the four environments and valid JSON in additional_info', () => {
    expect(new Set(sample.runs.eventId).size).to.equal(RUNS);
    expect(new Set(sample.runs.environment)).to.deep.equal(new Set(['dev', 'test', 'uat', 'prod']));
    expect(share(sample.runs.environment, (e) => e === 'prod')).to.be.closeTo(SHAPE.environmentShares.prod, 0.015);
    const infos = sample.jobs.additionalInfo;
    expect(share(infos, (x) => x !== null)).to.be.closeTo(SHAPE.additionalInfoShare, 0.01);
    for (const x of infos.slice(0, 500)) if (x !== null) expect(JSON.parse(x)).to.have.property('rows');
  });

  it('writes consistent status-change rows in the advertised status shares', () => {
    const s = sample.status;
    expect(s.jobId).to.have.length(RUNS);
    expect(new Set(s.jobId).size).to.equal(RUNS);
    for (const t of STATUS_TYPES) {
      expect(share(s.statusType, (x) => x === t), t).to.be.closeTo(SHAPE.statusTypeShares[t], 0.01);
    }
    expect(share(s.statusType, (x) => x === null)).to.be.closeTo(SHAPE.statusTypeShares.null, 0.005);
    const wrong: string[] = [];
    s.jobId.forEach((id, i) => {
      const created = s.createdAt[i] as number;
      const started = s.startedAt[i] ?? null;
      const finished = s.finishedAt[i] ?? null;
      const type = s.statusType[i];
      const terminal = type === 'SUCCEEDED' || type === 'FAILED' || type === 'KILLED';
      if (created < WINDOW.start || created >= WINDOW.end) wrong.push(`${id} created outside the window`);
      if (started !== null && (started < created || started >= WINDOW.end)) wrong.push(`${id} started at ${started}`);
      if (finished !== null && (started === null || finished < started || finished >= WINDOW.end)) wrong.push(`${id} finished at ${finished}`);
      if ((finished !== null) !== terminal) wrong.push(`${id} is ${type} with finished_at ${finished}`);
      if ((started === null) !== (type === 'WAITING' || type === null)) wrong.push(`${id} is ${type} with started_at ${started}`);
      if (s.lastUpdatedAt[i] !== (finished ?? started ?? created)) wrong.push(`${id} last update is not its latest timestamp`);
      if (!((s.attemptNumber[i] ?? 0) >= 1) || (s.initialJobId[i] === id) !== (s.attemptNumber[i] === 1)) wrong.push(`${id} attempt is inconsistent`);
      if (pipelineOf.get(s.sourceApp[i] as string)?.tenantId !== s.tenantId[i]) wrong.push(`${id} has another tenant than its pipeline`);
    });
    expect(wrong.slice(0, 5)).to.deep.equal([]);
    expect(share(s.createdAt, (t) => t % 1000 !== 0)).to.be.above(0.99);
  });
});
