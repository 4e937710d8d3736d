/**
 * The benchmark harness end to end, in smoke mode: every stage runs against its own embedded
 * PostgreSQL, the API and the ceiling server as child processes. Timings are not asserted — only
 * that each stage produced numbers, that the harness's own checks held, and that it cleaned up.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runBench, type BenchRun } from '../../bench/harness.ts';
import { parseOptions } from '../../bench/options.ts';
import type { SizeResult } from '../../bench/report.ts';
import { registeredViews, SUPPORTED_QUERIES } from '../../src/declarations/index.ts';

/** Our own child processes that the harness may start: PostgreSQL, the API, the ceiling, Lambda probes. */
function benchChildren(): Set<number> {
  const out = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (ppid === process.pid && /postgres|server\.ts|ceiling-server|lambda-cold-start/.test(cmd)) out.add(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

function expectFinite(value: unknown, what: string): void {
  expect(value, what).to.be.a('number');
  expect(Number.isFinite(value), `${what} is finite`).to.equal(true);
}

describe('the benchmark harness (npm run bench -- --smoke)', function () {
  this.timeout(420_000);
  let out: string;
  let run: BenchRun;
  let result: SizeResult;
  let smallest: SizeResult;
  let childrenBefore: Set<number>;

  // Linux-only like the harness's RSS reading; CI runs there.
  const hasProc = existsSync('/proc/self/stat');

  before(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'eventstats-bench-test-'));
    childrenBefore = hasProc ? benchChildren() : new Set();
    // Smoke mode never builds dist; built here (seconds), the Lambda stage is always exercised
    // rather than skipped, and the API runs as production runs it (node dist/src/server.js).
    await promisify(execFile)('npm', ['run', '-s', 'build'], { cwd: path.resolve(import.meta.dirname, '../..') });
    // Two sizes, so the larger one measures its p50 side by side with the smaller.
    run = await runBench(parseOptions(['--smoke', '--jobs', '1000,5000', '--out', out], undefined, () => {}));
    expect(run.files).to.have.length(2);
    smallest = JSON.parse(await readFile(run.files[0]!.json, 'utf8')) as SizeResult;
    result = JSON.parse(await readFile(run.files[1]!.json, 'utf8')) as SizeResult;
  });
  after(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('writes the JSON and the Markdown result for the size, named by date and size', () => {
    const { json, markdown } = run.files[1]!;
    expect(path.dirname(json)).to.equal(out);
    expect(path.basename(json)).to.match(/^\d{4}-\d{2}-\d{2}-5k\.json$/);
    expect(path.basename(markdown)).to.equal(path.basename(json).replace(/\.json$/, '.md'));
    const md = readFileSync(markdown, 'utf8');
    for (const heading of ['## Targets', '## Compiled queries', '## Raw rows vs compiled', '## HTTP ceiling', '## Refresh and views', '## API process and Lambda']) {
      expect(md).to.contain(heading);
    }
  });

  it('describes the machine and the PostgreSQL server', () => {
    expect(result.machine.cpu).to.be.a('string').and.not.equal('');
    expectFinite(result.machine.cores, 'cores');
    expectFinite(result.machine.memoryBytes, 'memory');
    expect(result.machine.node).to.equal(process.version);
    expect(result.machine.postgres).to.match(/^PostgreSQL \d+/);
  });

  it('seeds, refreshes every view and reports their rows and sizes', () => {
    expectFinite(result.dataset.seeded.jobs, 'seeded jobs');
    expect(result.dataset.seeded.jobs).to.be.greaterThan(0);
    expectFinite(result.dataset.refresh.totalMs, 'refresh total');
    const names = registeredViews().map((v) => v.name);
    expect(result.dataset.refresh.views.map((v) => v.view)).to.deep.equal(names);
    expect(result.dataset.concurrentRefresh.views.map((v) => v.outcome)).to.deep.equal(names.map(() => 'refreshed'));
    for (const v of result.dataset.refresh.views) {
      expect(v.outcome, v.view).to.equal('refreshed');
      expectFinite(v.ms, `${v.view} refresh ms`);
    }
    expect(result.dataset.views.map((v) => v.view)).to.deep.equal(names);
    for (const v of result.dataset.views) {
      expectFinite(v.rows, `${v.view} rows`);
      expectFinite(v.bytes, `${v.view} bytes`);
    }
  });

  it('skips every view on a refresh with unchanged sources, and times each', () => {
    for (const v of result.dataset.unchangedRefresh.views) {
      expect(v.outcome, v.view).to.equal('skipped');
      expectFinite(v.ms, `${v.view} skipped ms`);
      expectFinite(v.wallMs, `${v.view} skipped wall ms`);
    }
    expect(result.dataset.unchangedRefresh.views).to.have.length(registeredViews().length);
  });

  it('loads every compiled query at 1 and 16 connections with no non-2xx answer or error', () => {
    expect(result.compiled.map((c) => c.query)).to.deep.equal(SUPPORTED_QUERIES.map((q) => q.name));
    for (const c of result.compiled) {
      for (const load of [c.oneConnection, c.concurrent]) {
        expect(load.responses, `${c.query} responses`).to.be.greaterThan(0);
        expect(load.non2xx, `${c.query} non-2xx at ${load.connections}`).to.equal(0);
        expect(load.errors, `${c.query} errors at ${load.connections}`).to.equal(0);
        for (const k of ['p50', 'p90', 'p99'] as const) expectFinite(load.latencyMs[k], `${c.query} ${k}`);
        expectFinite(load.requestsPerSecond, `${c.query} req/s`);
      }
      expect(c.oneConnection.connections).to.equal(1);
      expect(c.concurrent.connections).to.equal(16);
      expectFinite(c.responseBytes, `${c.query} bytes`);
    }
  });

  it('computes each answer on the fly too, and the API answered exactly the same rows', () => {
    for (const c of result.compiled) {
      expectFinite(c.onTheFlyMs.p50, `${c.query} on the fly p50`);
      expectFinite(c.onTheFlyMs.p99, `${c.query} on the fly p99`);
      expectFinite(c.statementMs.p50, `${c.query} statement p50`);
      expectFinite(c.plan.executionMs, `${c.query} EXPLAIN execution`);
      expectFinite(c.speedup, `${c.query} speed-up`);
      expect(c.difference, c.query).to.equal(null);
      expect(c.exact, c.query).to.equal(true);
    }
    expect(result.slowestPlan.text).to.contain('Buffers');
  });

  it('pages the raw rows, extrapolates past --raw-pages pages, and relates their bytes to the compiled answer', () => {
    const raw = result.raw;
    expect(raw.pagesFetched).to.be.within(1, 3);
    expectFinite(raw.windowRows, 'raw window rows');
    expectFinite(raw.totalMs, 'raw total ms');
    expectFinite(raw.totalBytes, 'raw total bytes');
    // Smoke pages hold 40 rows, so the 7-day window spans more than 3 pages: the estimate is exercised.
    expect(raw.pageLimit).to.equal(40);
    expect(raw.totalPages).to.be.greaterThan(raw.pagesFetched);
    expect(raw.extrapolated).to.equal(true);
    expect(raw.agreesWithCompiled).to.equal(null);
    expect(raw.totalBytes).to.be.greaterThan(raw.fetchedBytes);
    expectFinite(result.ratios.rawBytesVsCompiled, 'raw bytes / compiled bytes');
  });

  it('measures the HTTP ceiling under the same load and relates compiled req/s to it', () => {
    expectFinite(result.ceiling.concurrent.requestsPerSecond, 'ceiling req/s');
    expect(result.ceiling.concurrent.non2xx).to.equal(0);
    expect(result.ceiling.oneConnection.non2xx).to.equal(0);
    for (const q of result.ratios.perQuery) expectFinite(q.rpsVsCeiling, `${q.query} vs ceiling`);
  });

  it('measures the one-statement ceiling (one SELECT 1 a request) and relates the days-window req/s to it', () => {
    expectFinite(result.statementCeiling.concurrent.requestsPerSecond, 'one-statement ceiling req/s');
    expect(result.statementCeiling.concurrent.non2xx).to.equal(0);
    expect(result.statementCeiling.oneConnection.non2xx).to.equal(0);
    for (const c of result.compiled) {
      expect(c.days.concurrent.non2xx, `${c.query} days`).to.equal(0);
      expectFinite(c.days.oneConnection.latencyMs.p50, `${c.query} days p50`);
    }
    for (const q of result.ratios.perQuery) {
      expectFinite(q.rpsVsStatementCeiling, `${q.query} vs one-statement ceiling`);
      expectFinite(q.daysRpsVsStatementCeiling, `${q.query} days vs one-statement ceiling`);
    }
  });

  it('measures the API peak RSS and a Lambda cold start of the built bundle', () => {
    if (hasProc) expectFinite(result.api.peakRssAfterLoadBytes, 'peak RSS');
    // The handler's start-up log lines share stdout with the result line: a result read from the
    // wrong line gave null timings and statuses (2026-12-07), which only a measured stage shows.
    const lambda = result.lambda;
    if (lambda.status !== 'measured') expect.fail(`the Lambda cold start was ${lambda.status}: ${lambda.reason}`);
    expect(lambda.events).to.have.length.greaterThan(0);
    for (const e of lambda.events) {
      expectFinite(e.answerMs, `${e.event} in-process`);
      expectFinite(e.wallMs, `${e.event} wall`);
      expect(e.statusCode, e.event).to.equal(200);
    }
  });

  it('measures the larger size\'s p50 side by side with the smallest, and judges the 1.2× target on it', () => {
    expect(smallest.paired).to.equal(null);
    const paired = result.paired!;
    expect(paired.baseline).to.equal('1k');
    expect(paired.queries.map((q) => q.query)).to.deep.equal(SUPPORTED_QUERIES.map((q) => q.name));
    for (const q of paired.queries) {
      expect(q.p50s, q.query).to.have.length(paired.rounds);
      expect(q.baselineP50s, q.query).to.have.length(paired.rounds);
      expectFinite(q.p50, `${q.query} paired p50`);
      expectFinite(q.baselineP50, `${q.query} paired baseline p50`);
      expectFinite(q.ratio, `${q.query} paired ratio`);
    }
    const growth = result.targets.find((t) => t.target.startsWith('p50 at 10M'))!;
    expect(growth.value).to.contain('side by side');
    expect(readFileSync(run.files[1]!.markdown, 'utf8')).to.contain('### p50 side by side with 1k');
  });

  it('measures real-time reads with one and ten minutes of writes unabsorbed against none, each answer real-time with its tail counted', () => {
    const rt = result.realtime;
    const runsQueries = SUPPORTED_QUERIES.filter((q) => q.topic === 'public.cps.za.runs').map((q) => q.name);
    expect(rt.states.map((s) => s.minutes)).to.deep.equal([1, 10]);
    for (const state of rt.states) {
      expect(state.written).to.deep.equal({ runs: 100 * state.minutes, jobs: 500 * state.minutes, lateRuns: 5 * state.minutes });
      expect(state.queries.map((q) => q.query)).to.deep.equal(runsQueries);
      for (const q of state.queries) {
        expect(q.realtime, q.query).to.equal(true);
        // Every row written lands in the window; the raw edges read the rows of its last minute themselves.
        expect(q.tailRows, q.query).to.be.within(1, state.written.jobs);
        expect(q.absorbedP50s, q.query).to.have.length(rt.rounds);
        expectFinite(q.ratio, `${q.query} real-time ratio`);
      }
    }
    expect(result.targets.filter((t) => t.target.startsWith('real-time p50'))).to.have.length(2);
    expect(readFileSync(run.files[1]!.markdown, 'utf8')).to.contain('### Real-time answers with writes unabsorbed');
  });

  it('judges every product target', () => {
    expect(result.targets.length).to.be.greaterThanOrEqual(11);
    for (const t of result.targets) expect(t.met === null || typeof t.met === 'boolean', t.target).to.equal(true);
  });

  it('leaves none of its processes running', function () {
    if (!hasProc) this.skip();
    const left = [...benchChildren()].filter((pid) => !childrenBefore.has(pid));
    expect(left, 'child processes still running').to.deep.equal([]);
    expect(existsSync(run.files[1]!.json)).to.equal(true);
  });
});
