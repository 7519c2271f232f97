/**
 * The containers' metrics registry, on prom-client: its default process metrics (event-loop lag,
 * GC, heap, file descriptors, CPU) plus the project's families, rendered in the Prometheus text
 * format. Families are used through small positional-label interfaces (`inc(['refresh',
 * 'applied'])`), so the hot path does not build label objects, and `get()` reads a value back
 * synchronously for tests and the progress line.
 */
import * as prom from 'prom-client';

type LabelValues = readonly string[];

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

/** Options of {@link MetricsRegistry}. */
export interface MetricsRegistryOptions {
  /** Collect prom-client's default process metrics. @default true */
  processMetrics?: boolean;
}

const key = (l: LabelValues) => l.join('\u0000');

/** A prom-client registry with the project's families. */
export class MetricsRegistry {
  /** The prom-client registry (for anything the small interfaces do not cover). */
  readonly registry = new prom.Registry();

  constructor(options: MetricsRegistryOptions = {}) {
    if (options.processMetrics ?? true) prom.collectDefaultMetrics({ register: this.registry });
  }

  counter(name: string, help: string, labels: readonly string[] = []): Counter {
    const c = new prom.Counter({ name, help, labelNames: labels, registers: [this.registry] });
    const values = new Map<string, number>();
    return {
      inc(l = [], by = 1) {
        if (l.length === 0) c.inc(by);
        else c.labels(...l).inc(by);
        const k = key(l);
        values.set(k, (values.get(k) ?? 0) + by);
      },
      get: (l = []) => values.get(key(l)) ?? 0,
    };
  }

  gauge(name: string, help: string, labels: readonly string[] = []): Gauge {
    const g = new prom.Gauge({ name, help, labelNames: labels, registers: [this.registry] });
    const values = new Map<string, number>();
    return {
      set(value, l = []) {
        if (l.length === 0) g.set(value);
        else g.labels(...l).set(value);
        values.set(key(l), value);
      },
      get: (l = []) => values.get(key(l)) ?? 0,
      remove(l) {
        g.remove(...l);
        values.delete(key(l));
      },
    };
  }

  histogram(
    name: string,
    help: string,
    labels: readonly string[] = [],
    buckets: readonly number[] = LATENCY_BUCKETS_S,
  ): Histogram {
    const h = new prom.Histogram({
      name,
      help,
      labelNames: labels,
      buckets: [...buckets],
      registers: [this.registry],
    });
    const totals = new Map<string, { count: number; sum: number }>();
    return {
      observe(value, l = []) {
        if (l.length === 0) h.observe(value);
        else h.labels(...l).observe(value);
        const k = key(l);
        const t = totals.get(k);
        if (t === undefined) totals.set(k, { count: 1, sum: value });
        else {
          t.count++;
          t.sum += value;
        }
      },
      get: (l = []) => ({ ...(totals.get(key(l)) ?? { count: 0, sum: 0 }) }),
    };
  }

  /** The content type of {@link render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every family (process metrics included). */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
