/** The console summary: ratios first (they travel between machines), then the targets. */
import type { SizeResult } from './report.ts';

const x = (n: number | null) => (n === null ? 'n/a' : `${n.toLocaleString('en-US')}×`);

export function summaryLines(results: readonly SizeResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    const q = r.ratios.perQuery;
    out.push(`== ${r.label} jobs${r.settings.smoke ? ' (smoke: not meaningful)' : ''}`);
    out.push(`  on the fly / compiled p50:    ${q.map((p) => `${p.query} ${x(p.onTheFlyVsCompiled)}`).join(', ')}`);
    out.push(`  raw bytes / compiled bytes:   ${x(r.ratios.rawBytesVsCompiled)}${r.raw.extrapolated ? ' (raw extrapolated from the first pages)' : ''}`);
    out.push(`  p50 / p50 at ${r.ratios.baseline}:${' '.repeat(Math.max(1, 15 - r.ratios.baseline.length))}${q.map((p) => `${p.query} ${x(p.p50VsBaseline)}`).join(', ')}`);
    out.push(`  compiled req/s / ceiling:     ${q.map((p) => `${p.query} ${p.rpsVsCeiling ?? 'n/a'}`).join(', ')}`);
    out.push(`  req/s / one-statement ceiling: ${q.map((p) => `${p.query} ${p.rpsVsStatementCeiling ?? 'n/a'}`).join(', ')}`);
    out.push(`  days: 7 req/s / one-statement: ${q.map((p) => `${p.query} ${p.daysRpsVsStatementCeiling ?? 'n/a'}`).join(', ')}`);
    for (const t of r.targets) out.push(`  [${t.met === null ? 'n/a' : t.met ? 'met' : 'NOT MET'}] ${t.target}: ${t.value}${t.note ? ` (${t.note})` : ''}`);
  }
  return out;
}
