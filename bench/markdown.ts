/** The Markdown renderings: one size's full report, and every size of a run side by side. */
import { bytes, ms, num, times } from './format.ts';
import type { SizeResult } from './report.ts';

const mark = (met: boolean | null) => (met === null ? 'n/a' : met ? 'met' : '**not met**');

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function renderMarkdown(r: SizeResult): string {
  const m = r.machine;
  const d = r.dataset;
  const lines: string[] = [];
  lines.push(`# EventStats benchmark — ${r.label} jobs (${r.date})`, '');
  lines.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${bytes(m.memoryBytes)} RAM, ${m.os}; Node ${m.node}; ${m.postgres.split(',')[0]} (${m.database}; ` +
      `${Object.entries(m.postgresSettings).map(([k, v]) => `${k}=${v}`).join(', ')}).`,
    `Load: autocannon on 127.0.0.1, keep-alive, ${r.settings.warmupS} s warm-up then ${r.settings.durationS} s at 1 and at ${r.settings.connections} connections; ` +
      `the client, the API (DB_POOL_MAX=${r.api.poolMax}) and PostgreSQL share the machine.${r.settings.smoke ? ' **Smoke run: numbers are not meaningful.**' : ''}`,
    `Load average (1/5/15 min): ${r.systemLoad.start.map((n) => n.toFixed(2)).join('/')} at the start, ${r.systemLoad.end.map((n) => n.toFixed(2)).join('/')} at the end.`,
    `Window: ${new Date(r.window.start).toISOString()} – ${new Date(r.window.end).toISOString()} (7 days, unaligned ms bounds).`,
    '',
  );
  lines.push('## Targets', '', table(['target', 'measured', 'status'], r.targets.map((t) => [t.target, t.value + (t.note ? ` — ${t.note}` : ''), mark(t.met)])), '');
  lines.push(
    '## Compiled queries',
    '',
    table(
      ['query', 'p50 @1', 'p90 @1', 'p99 @1', `req/s @${r.settings.connections}`, `p99 @${r.settings.connections}`, 'non-2xx', 'bytes', 'rows', 'SQL p50 miss / edges', 'on the fly p50 / p99', 'speed-up', 'exact'],
      r.compiled.map((c) => [
        c.query,
        ms(c.oneConnection.latencyMs.p50),
        ms(c.oneConnection.latencyMs.p90),
        ms(c.oneConnection.latencyMs.p99),
        num(c.concurrent.requestsPerSecond),
        ms(c.concurrent.latencyMs.p99),
        String(c.oneConnection.non2xx + c.concurrent.non2xx + c.oneConnection.errors + c.concurrent.errors),
        num(c.responseBytes),
        String(c.rows),
        `${ms(c.statementMs.p50)} / ${c.edgeStatementMs ? ms(c.edgeStatementMs.p50) : 'none'}`,
        `${ms(c.onTheFlyMs.p50)} / ${ms(c.onTheFlyMs.p99)}`,
        times(c.speedup),
        c.exact ? 'yes' : `**no**: ${c.difference}`,
      ]),
    ),
    '',
    table(
      ['query', 'plan: planning', 'execution', 'shared hit', 'shared read', `p50 vs ${r.ratios.baseline}`, 'req/s vs ceiling'],
      r.compiled.map((c) => {
        const q = r.ratios.perQuery.find((p) => p.query === c.query);
        return [c.query, ms(c.plan.planningMs), ms(c.plan.executionMs), num(c.plan.sharedHit), num(c.plan.sharedRead), times(q?.p50VsBaseline ?? null), q?.rpsVsCeiling?.toFixed(2) ?? 'n/a'];
      }),
    ),
    '',
  );
  if (r.paired) {
    const p = r.paired;
    lines.push(
      `### p50 side by side with ${p.baseline}`,
      '',
      `Both sizes' APIs up at once, 1 connection, ${p.rounds} rounds of ${p.durationS} s each taking turns (this size first); medians of the rounds' p50s.`,
      '',
      table(
        ['query', `p50 ${r.label}`, `p50 ${p.baseline}`, 'ratio', `rounds ${r.label}`, `rounds ${p.baseline}`],
        p.queries.map((q) => [q.query, ms(q.p50), ms(q.baselineP50), times(q.ratio), q.p50s.map(ms).join(', '), q.baselineP50s.map(ms).join(', ')]),
      ),
      '',
    );
  }
  const rt = r.realtime;
  lines.push(
    '### Real-time answers with writes unabsorbed',
    '',
    `1 connection, ${rt.rounds} rounds of ${rt.durationS} s each: a cycle (nothing unabsorbed), then the writes (one run and 5 jobs per transaction, 1 in 20 runs late by days); medians of the rounds' p50s.`,
    '',
    table(
      ['query', 'unabsorbed', 'p50 absorbed', 'p50 unabsorbed', 'ratio', 'tail rows', 'rounds'],
      rt.states.flatMap((st) =>
        st.queries.map((q) => [
          q.query,
          `${st.minutes} min (${num(st.written.runs)} runs, ${num(st.written.jobs)} jobs, ${st.written.lateRuns} late)`,
          ms(q.absorbedP50),
          ms(q.unabsorbedP50),
          times(q.ratio),
          q.realtime ? num(q.tailRows ?? 0) : 'not real-time',
          q.absorbedP50s.map((a, i) => `${ms(a)} / ${ms(q.unabsorbedP50s[i]!)}`).join(', '),
        ]),
      ),
    ),
    '',
  );
  const raw = r.raw;
  lines.push(
    '## Raw rows vs compiled',
    '',
    `${raw.path}, ${raw.pageLimit} rows a page, cursor paging: ${raw.pagesFetched} of ${raw.totalPages} pages fetched (${num(raw.rowsFetched)} of ${num(raw.windowRows)} rows) in ${ms(raw.fetchedMs)}, ${bytes(raw.fetchedBytes)}.` +
      (raw.extrapolated
        ? ` **Extrapolated** from those first pages to the window's ${num(raw.windowRows)} rows: ${(raw.totalMs / 1000).toFixed(1)} s, ${bytes(raw.totalBytes)}.`
        : ` Client-side failed counts ${raw.agreesWithCompiled ? 'agree' : '**disagree**'} with failed_jobs.`),
    `Raw bytes / compiled bytes: ${times(r.ratios.rawBytesVsCompiled)}; raw time / compiled p50: ${times(r.ratios.rawTimeVsCompiled)}.`,
    '',
  );
  const ce = r.ceiling;
  lines.push(
    '## HTTP ceiling',
    '',
    `Same Express stack, constant ${num(ce.responseBytes)}-byte body (${ce.bodyOf}'s answer): p50 ${ms(ce.oneConnection.latencyMs.p50)} at 1 connection, ` +
      `${num(ce.concurrent.requestsPerSecond)} req/s (p99 ${ms(ce.concurrent.latencyMs.p99)}) at ${ce.concurrent.connections}.`,
    '',
  );
  const sc = r.statementCeiling;
  lines.push(
    '## One-statement ceiling',
    '',
    `The same route plus one \`SELECT 1\` through pg (pool of 16): p50 ${ms(sc.oneConnection.latencyMs.p50)} at 1 connection, ` +
      `${num(sc.concurrent.requestsPerSecond)} req/s (p99 ${ms(sc.concurrent.latencyMs.p99)}) at ${sc.concurrent.connections}.`,
    '',
    table(
      ['query', 'fixed window p50 @1', 'req/s', 'vs HTTP ceiling', 'vs one-statement ceiling', 'days: 7 p50 @1', 'req/s', 'vs one-statement ceiling'],
      r.compiled.map((c) => {
        const q = r.ratios.perQuery.find((p) => p.query === c.query);
        return [
          c.query,
          ms(c.oneConnection.latencyMs.p50),
          num(c.concurrent.requestsPerSecond),
          q?.rpsVsCeiling?.toFixed(2) ?? 'n/a',
          q?.rpsVsStatementCeiling?.toFixed(2) ?? 'n/a',
          ms(c.days.oneConnection.latencyMs.p50),
          num(c.days.concurrent.requestsPerSecond),
          q?.daysRpsVsStatementCeiling?.toFixed(2) ?? 'n/a',
        ];
      }),
    ),
    '',
  );
  lines.push('## Refresh and views', '');
  lines.push(
    `Seeded ${num(d.seeded.runs)} runs, ${num(d.seeded.jobs)} jobs, ${num(d.seeded.statusRows)} status rows (seed ${d.seed}) in ${(d.seeded.ms / 1000).toFixed(1)} s; VACUUM ANALYZE ${(d.vacuumAnalyzeMs / 1000).toFixed(1)} s; after the refresh measurements, VACUUM (ANALYZE) of the views and a CHECKPOINT before any load ${(d.settleMs / 1000).toFixed(1)} s. ` +
      `Base tables: ${d.baseTables.map((t) => `${t.table} ${bytes(t.bytes)}`).join(', ')}.`,
    '',
    table(
      ['view', 'rows', 'size', 'first population', 'forced CONCURRENTLY', 'unchanged: outcome', 'unchanged: ms (wall)'],
      d.views.map((v) => {
        const f = d.refresh.views.find((x) => x.view === v.view);
        const c = d.concurrentRefresh.views.find((x) => x.view === v.view);
        const u = d.unchangedRefresh.views.find((x) => x.view === v.view);
        return [v.view, num(v.rows), bytes(v.bytes), f ? ms(f.ms) : '', c ? ms(c.ms) : '', u?.outcome ?? '', u ? `${u.ms} (${u.wallMs.toFixed(1)})` : ''];
      }),
    ),
    '',
    `All views: first population ${(d.refresh.totalMs / 1000).toFixed(2)} s, forced CONCURRENTLY ${(d.concurrentRefresh.totalMs / 1000).toFixed(2)} s one after another, ${(d.parallelRefresh.totalMs / 1000).toFixed(2)} s all at once (as the worker runs them), unchanged ${ms(d.unchangedRefresh.totalMs)}.`,
    '',
  );
  lines.push('## API process and Lambda', '');
  lines.push(
    `\`${r.api.command}\`: peak RSS (VmHWM) ${r.api.peakRssAfterLoadBytes === null ? 'n/a' : bytes(r.api.peakRssAfterLoadBytes)} after the compiled load, ` +
      `${r.api.peakRssAtEndBytes === null ? 'n/a' : bytes(r.api.peakRssAtEndBytes)} after raw paging.`,
  );
  if (r.lambda.status === 'measured') {
    lines.push(
      '',
      table(
        ['Lambda event (dist ' + r.lambda.build.dist + ')', 'status', 'import (median)', 'answer, in process', 'answer, wall'],
        r.lambda.events.map((e) => [e.event, String(e.statusCode), ms(e.importMs), ms(e.answerMs), ms(e.wallMs)]),
      ),
    );
  } else {
    lines.push(`Lambda cold start ${r.lambda.status}: ${r.lambda.reason.split('\n')[0]}`);
  }
  lines.push('', `## Slowest compiled query: ${r.slowestPlan.query}`, '', '```', r.slowestPlan.text, '```', '');
  return lines.join('\n');
}

/** One line per size, the figures BENCHMARKS.md tabulates. */
export function renderComparison(results: readonly SizeResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    for (const c of r.compiled) {
      const q = r.ratios.perQuery.find((p) => p.query === c.query);
      rows.push([
        r.label,
        c.query,
        ms(c.oneConnection.latencyMs.p50),
        ms(c.oneConnection.latencyMs.p99),
        num(c.concurrent.requestsPerSecond),
        ms(c.concurrent.latencyMs.p99),
        num(c.responseBytes),
        ms(c.onTheFlyMs.p50),
        times(c.speedup),
        times(q?.p50VsBaseline ?? null),
        q?.rpsVsCeiling?.toFixed(2) ?? 'n/a',
        c.exact ? 'yes' : 'no',
      ]);
    }
  }
  return table(
    ['jobs', 'query', 'p50 @1', 'p99 @1', 'req/s @16', 'p99 @16', 'bytes', 'on the fly p50', 'speed-up', 'p50 vs smallest', 'vs ceiling', 'exact'],
    rows,
  );
}
