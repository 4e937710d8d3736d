/** The product issue's targets, judged honestly against one size's numbers. */
import { MiB, ms, times } from './format.ts';
import type { SizeResult, Target } from './report.ts';

/** The item with the worst value (highest, or lowest when lower is worse). */
function worst<T>(items: readonly T[], value: (t: T) => number, higherIsWorse: boolean): { item: T; value: number } | undefined {
  let best: { item: T; value: number } | undefined;
  for (const item of items) {
    const v = value(item);
    if (!best || (higherIsWorse ? v > best.value : v < best.value)) best = { item, value: v };
  }
  return best;
}

/** Every target, in the issue's order; `met` is null where it does not apply at this size. */
export function judgeTargets(r: Omit<SizeResult, 'targets' | 'slowestPlan'>): Target[] {
  const c = r.compiled;
  const targets: Target[] = [];
  const inexact = c.filter((q) => !q.exact);
  targets.push({
    target: 'every compiled query exact at ms bounds',
    value: inexact.length ? `differs: ${inexact.map((q) => `${q.query} (${q.difference})`).join('; ')}` : `${c.length}/${c.length} equal to on the fly`,
    met: inexact.length === 0,
  });
  const p50 = worst(c, (q) => q.oneConnection.latencyMs.p50, true);
  if (p50) targets.push({ target: 'p50 ≤ 5 ms at 1 connection', value: `worst ${ms(p50.value)} (${p50.item.query})`, met: p50.value <= 5 });
  const p99 = worst(c, (q) => q.oneConnection.latencyMs.p99, true);
  if (p99) targets.push({ target: 'p99 ≤ 25 ms at 1 connection', value: `worst ${ms(p99.value)} (${p99.item.query})`, met: p99.value <= 25 });
  const rps = worst(c, (q) => q.concurrent.requestsPerSecond, false);
  if (rps) {
    targets.push({
      target: `≥ 1,000 req/s at 16 connections`,
      value: `lowest ${Math.round(rps.value).toLocaleString('en-US')} req/s (${rps.item.query}) at ${r.settings.connections}`,
      met: r.settings.connections === 16 ? rps.value >= 1000 : null,
    });
  }
  // Side by side (both sizes' APIs up, alternating) when the run measured it; else the sizes' own p50s, minutes apart.
  const paired = r.paired ? worst(r.paired.queries.filter((q) => q.ratio !== null), (q) => q.ratio!, true) : undefined;
  const growth = worst(r.ratios.perQuery.filter((q) => q.p50VsBaseline !== null), (q) => q.p50VsBaseline!, true);
  targets.push({
    target: 'p50 at 10M within 1.2× of 100k',
    value: paired
      ? `worst ${paired.value}× of ${r.paired!.baseline} side by side (${paired.item.query}: ${ms(paired.item.p50)} vs ${ms(paired.item.baselineP50)}, medians of ${r.paired!.rounds} alternating rounds)` +
        (growth ? `; ${growth.value}× from the sizes' own load runs` : '')
      : growth
        ? `worst ${growth.value}× of ${r.ratios.baseline} (${growth.item.query})`
        : `this is the run's smallest size`,
    met: paired ? paired.value <= 1.2 : growth ? growth.value <= 1.2 : null,
    note: paired || growth ? `measured ${r.label} vs ${r.ratios.baseline}; the target is stated for 10M vs 100k` : undefined,
  });
  for (const [minutes, bound] of [
    [1, 1.2],
    [10, 2],
  ] as const) {
    const state = r.realtime.states.find((s) => s.minutes === minutes);
    const w = state ? worst(state.queries.filter((q) => q.ratio !== null), (q) => q.ratio!, true) : undefined;
    const notLive = state?.queries.filter((q) => !q.realtime) ?? [];
    targets.push({
      target: `real-time p50 with ${minutes} min unabsorbed within ${bound}× of nothing unabsorbed`,
      value: w
        ? `worst ${w.value}× (${w.item.query}: ${ms(w.item.unabsorbedP50)} vs ${ms(w.item.absorbedP50)}, ${w.item.tailRows} tail rows; medians of ${r.realtime.rounds} alternating rounds)` +
          (notLive.length ? `; NOT real-time: ${notLive.map((q) => q.query).join(', ')}` : '')
        : 'not measured',
      met: w ? w.value <= bound && notLive.length === 0 : null,
      note: r.label === '10M' ? undefined : 'the target is stated for 10M',
    });
  }
  // Issue 30: a poll of the fixed window (nothing written) and a `days` window (a statement each).
  const p50One = worst(c, (q) => Math.max(q.oneConnection.latencyMs.p50, q.days.oneConnection.latencyMs.p50), true);
  if (p50One) targets.push({ target: 'p50 ≤ 1 ms at 1 connection (fixed and days windows)', value: `worst ${ms(p50One.value)} (${p50One.item.query})`, met: p50One.value <= 1 });
  const vsStatement = worst(r.ratios.perQuery, (q) => q.daysRpsVsStatementCeiling ?? 0, false);
  if (vsStatement) {
    targets.push({
      target: 'days-window req/s ≥ 0.5 of the one-statement ceiling',
      value: `lowest ${vsStatement.value} (${vsStatement.item.query}; ceiling ${Math.round(r.statementCeiling.concurrent.requestsPerSecond).toLocaleString('en-US')} req/s)`,
      met: vsStatement.value >= 0.5,
    });
  }
  const vsHttp = worst(r.ratios.perQuery, (q) => q.rpsVsCeiling ?? 0, false);
  if (vsHttp) {
    targets.push({
      target: 'fixed-window poll req/s ≥ 0.5 of the HTTP ceiling',
      value: `lowest ${vsHttp.value} (${vsHttp.item.query}; ceiling ${Math.round(r.ceiling.concurrent.requestsPerSecond).toLocaleString('en-US')} req/s)`,
      met: vsHttp.value >= 0.5,
    });
  }
  const fly = worst(r.ratios.perQuery, (q) => q.onTheFlyVsCompiled ?? 0, false);
  if (fly) targets.push({ target: '≥ 300× faster than on the fly', value: `lowest ${times(fly.value)} (${fly.item.query})`, met: fly.value >= 300 });
  targets.push({
    target: '≥ 10,000× fewer bytes than raw',
    value: `${times(r.ratios.rawBytesVsCompiled)} (failed_jobs vs raw paging${r.raw.extrapolated ? ', extrapolated' : ''})`,
    met: r.ratios.rawBytesVsCompiled === null ? null : r.ratios.rawBytesVsCompiled >= 10_000,
  });
  targets.push({
    target: 'refresh all views at 10M ≤ 60 s',
    value: `${(r.dataset.concurrentRefresh.totalMs / 1000).toFixed(1)} s CONCURRENTLY one after another (all at once: ${(r.dataset.parallelRefresh.totalMs / 1000).toFixed(1)} s; first population ${(r.dataset.refresh.totalMs / 1000).toFixed(1)} s) at ${r.label}`,
    met: r.dataset.concurrentRefresh.totalMs <= 60_000,
    note: r.label === '10M' ? undefined : 'the target is stated for 10M',
  });
  const skipped = r.dataset.unchangedRefresh.views;
  const allSkipped = skipped.every((v) => v.outcome === 'skipped');
  const slowSkip = Math.max(...skipped.map((v) => v.ms));
  targets.push({
    target: 'skipped refresh ≤ 5 ms',
    value: `${allSkipped ? 'all skipped' : 'NOT all skipped'}, slowest ${slowSkip} ms (wall incl. connection ${Math.max(...skipped.map((v) => v.wallMs)).toFixed(1)} ms)`,
    met: allSkipped && slowSkip <= 5,
  });
  if (r.lambda.status === 'measured') {
    const cold = r.lambda.events.find((e) => e.event.startsWith('POST')) ?? r.lambda.events[0]!;
    targets.push({
      target: 'Lambda cold start ≤ 300 ms',
      value: `${ms(cold.answerMs)} in-process, ${ms(cold.wallMs)} wall (${cold.event}, status ${cold.statusCode})`,
      met: cold.statusCode === 200 && cold.answerMs <= 300,
    });
  } else {
    targets.push({ target: 'Lambda cold start ≤ 300 ms', value: r.lambda.status, met: null, note: r.lambda.reason.split('\n')[0] });
  }
  const rss = r.api.peakRssAfterLoadBytes;
  targets.push({
    target: 'API peak RSS under load ≤ 200 MB',
    value: rss === null ? 'not measurable here (no /proc)' : `${(rss / MiB).toFixed(0)} MiB`,
    met: rss === null ? null : rss <= 200 * MiB,
  });
  return targets;
}
