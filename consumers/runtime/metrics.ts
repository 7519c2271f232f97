/**
 * A minimal Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format (version 0.0.4). No dependency; the hot path is one Map lookup per update, and
 * label sets are keyed by their joined values so no objects are allocated per observation.
 */

type LabelValues = readonly string[];

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  labels: readonly string[];
  render(out: string[]): void;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function labelText(names: readonly string[], values: LabelValues, extra = ''): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`);
  if (extra !== '') parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

const formatNumber = (v: number) =>
  Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);

/** A counter (only goes up). */
export interface Counter {
  inc(labels?: LabelValues, by?: number): void;
  get(labels?: LabelValues): number;
}

/** A gauge (set to a value). */
export interface Gauge {
  set(value: number, labels?: LabelValues): void;
  get(labels?: LabelValues): number;
  /** Removes a label set (a partition revoked, a shard finished). */
  remove(labels: LabelValues): void;
}

/** A histogram with fixed buckets. */
export interface Histogram {
  observe(value: number, labels?: LabelValues): void;
  /** Count and sum of a label set, for tests. */
  get(labels?: LabelValues): { count: number; sum: number };
}

/** Default buckets for latencies in seconds (0.5 ms … 10 s). */
export const LATENCY_BUCKETS_S = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

/** A registry of metric families rendered together. */
export class MetricsRegistry {
  readonly #families = new Map<string, Family>();

  #register(f: Family): void {
    if (this.#families.has(f.name)) throw new Error(`metric ${f.name} registered twice`);
    this.#families.set(f.name, f);
  }

  counter(name: string, help: string, labels: readonly string[] = []): Counter {
    const values = new Map<string, { labels: LabelValues; value: number }>();
    this.#register({
      name,
      help,
      type: 'counter',
      labels,
      render(out) {
        for (const v of values.values())
          out.push(`${name}${labelText(labels, v.labels)} ${formatNumber(v.value)}`);
      },
    });
    return {
      inc(l = [], by = 1) {
        const k = l.join('\u0000');
        const v = values.get(k);
        if (v === undefined) values.set(k, { labels: [...l], value: by });
        else v.value += by;
      },
      get: (l = []) => values.get(l.join('\u0000'))?.value ?? 0,
    };
  }

  gauge(name: string, help: string, labels: readonly string[] = []): Gauge {
    const values = new Map<string, { labels: LabelValues; value: number }>();
    this.#register({
      name,
      help,
      type: 'gauge',
      labels,
      render(out) {
        for (const v of values.values())
          out.push(`${name}${labelText(labels, v.labels)} ${formatNumber(v.value)}`);
      },
    });
    return {
      set(value, l = []) {
        const k = l.join('\u0000');
        const v = values.get(k);
        if (v === undefined) values.set(k, { labels: [...l], value });
        else v.value = value;
      },
      get: (l = []) => values.get(l.join('\u0000'))?.value ?? 0,
      remove: (l) => void values.delete(l.join('\u0000')),
    };
  }

  histogram(
    name: string,
    help: string,
    labels: readonly string[] = [],
    buckets: readonly number[] = LATENCY_BUCKETS_S,
  ): Histogram {
    const series = new Map<string, { labels: LabelValues; counts: number[]; count: number; sum: number }>();
    this.#register({
      name,
      help,
      type: 'histogram',
      labels,
      render(out) {
        for (const s of series.values()) {
          let cumulative = 0;
          buckets.forEach((b, i) => {
            cumulative += s.counts[i]!;
            out.push(`${name}_bucket${labelText(labels, s.labels, `le="${b}"`)} ${cumulative}`);
          });
          out.push(`${name}_bucket${labelText(labels, s.labels, 'le="+Inf"')} ${s.count}`);
          out.push(`${name}_sum${labelText(labels, s.labels)} ${formatNumber(s.sum)}`);
          out.push(`${name}_count${labelText(labels, s.labels)} ${s.count}`);
        }
      },
    });
    return {
      observe(value, l = []) {
        const k = l.join('\u0000');
        let s = series.get(k);
        if (s === undefined) {
          s = { labels: [...l], counts: new Array<number>(buckets.length).fill(0), count: 0, sum: 0 };
          series.set(k, s);
        }
        s.count++;
        s.sum += value;
        for (let i = 0; i < buckets.length; i++) {
          if (value <= buckets[i]!) {
            s.counts[i]!++;
            break;
          }
        }
      },
      get: (l = []) => {
        const s = series.get(l.join('\u0000'));
        return { count: s?.count ?? 0, sum: s?.sum ?? 0 };
      },
    };
  }

  /** The Prometheus text exposition of every family. */
  render(): string {
    const out: string[] = [];
    for (const f of this.#families.values()) {
      out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      f.render(out);
    }
    return `${out.join('\n')}\n`;
  }
}
