/**
 * Reading a /metrics answer as Prometheus would: parsed by a text-format parser (not by regular
 * expressions of our own), then looked up by family name and exact label set.
 *
 * parse-prometheus-text-format 1.1.1 handles unlabelled histograms only: it folds every series of a
 * histogram into one object keyed by `le`, losing their other labels, sums and counts. So histogram
 * families are read as untyped, where each _bucket, _sum and _count line stays a sample with all its
 * labels, and put together here by label set.
 */
import parsePrometheusTextFormat, { type PrometheusFamily, type PrometheusSample } from 'parse-prometheus-text-format';

/** A sample value as the text format writes it: a float, +Inf, -Inf or NaN. */
export function sampleNumber(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

export interface HistogramSeries {
  readonly count: number;
  readonly sum: number;
  /** Cumulative counts by upper bound (the `le` label: '0.5', '+Inf', ...). */
  readonly buckets: Readonly<Record<string, number>>;
}

const sameLabels = (have: Readonly<Record<string, string>> | undefined, wanted: Record<string, string>) => {
  const entries = Object.entries(have ?? {});
  return entries.length === Object.keys(wanted).length && entries.every(([k, v]) => wanted[k] === v);
};

export class Scrape {
  /** Every family by name; a histogram's by its base name (type HISTOGRAM, its series under histogram()). */
  readonly families: ReadonlyMap<string, PrometheusFamily>;
  private readonly histograms = new Set<string>();

  constructor(readonly text: string) {
    const untyped = text.replace(/^# TYPE (\S+) histogram$/gm, (_line, name: string) => {
      this.histograms.add(name);
      return `# TYPE ${name} untyped`;
    });
    const families = new Map<string, PrometheusFamily>();
    // A histogram's _bucket, _sum and _count lines alternate series by series: one family per run of them.
    for (const f of parsePrometheusTextFormat(untyped)) {
      const seen = families.get(f.name);
      families.set(f.name, seen ? { ...seen, metrics: [...seen.metrics, ...f.metrics] } : f);
    }
    for (const name of this.histograms) families.set(name, { ...families.get(name)!, type: 'HISTOGRAM' });
    this.families = families;
  }

  family(name: string): PrometheusFamily {
    const f = this.families.get(name);
    if (!f) throw new Error(`no metric family ${name} in the scrape; families: ${[...this.families.keys()].join(', ')}`);
    return f;
  }

  /** The sample of a counter or gauge whose labels are exactly `labels`, or undefined. */
  sample(name: string, labels: Record<string, string> = {}): PrometheusSample | undefined {
    return this.family(name).metrics.find((m) => sameLabels(m.labels, labels));
  }

  /** A counter's or gauge's value; a failure when the series is absent. */
  value(name: string, labels: Record<string, string> = {}): number {
    const s = this.sample(name, labels);
    if (s?.value === undefined) throw new Error(`no ${name}${JSON.stringify(labels)} in the scrape; it has ${JSON.stringify(this.labelSets(name))}`);
    return sampleNumber(s.value);
  }

  /** A histogram's series with exactly `labels`, or undefined (a series appears with its first observation). */
  histogram(name: string, labels: Record<string, string> = {}): HistogramSeries | undefined {
    if (!this.histograms.has(name)) throw new Error(`${name} is not a histogram in the scrape`);
    const count = this.families.get(`${name}_count`)?.metrics.find((m) => sameLabels(m.labels, labels));
    if (count?.value === undefined) return undefined;
    const sum = this.family(`${name}_sum`).metrics.find((m) => sameLabels(m.labels, labels));
    const buckets: Record<string, number> = {};
    for (const b of this.family(`${name}_bucket`).metrics) {
      const { le, ...rest } = b.labels ?? {};
      if (le !== undefined && b.value !== undefined && sameLabels(rest, labels)) buckets[le] = sampleNumber(b.value);
    }
    return { count: sampleNumber(count.value), sum: sampleNumber(sum?.value ?? 'NaN'), buckets };
  }

  /** A histogram series' count of observations (0 when the series is absent). */
  count(name: string, labels: Record<string, string> = {}): number {
    return this.histogram(name, labels)?.count ?? 0;
  }

  /** Every label set of a family (of a histogram: of its series), for messages and checks. */
  labelSets(name: string): Record<string, string>[] {
    const family = this.histograms.has(name) ? this.families.get(`${name}_count`) : this.family(name);
    return (family?.metrics ?? []).map((m) => ({ ...(m.labels ?? {}) }));
  }
}
