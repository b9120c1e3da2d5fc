import type { MetricObjectWithValues, MetricValue } from 'prom-client';

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];
type Sample = MetricValue<string> & { metricName?: string };

/** Series that only grow and are summed over the processes: what a process that is gone still counts for. */
const cumulative = (metric: MetricObjectWithValues<MetricValue<string>>) => (String(metric.type) === 'counter' || String(metric.type) === 'histogram') && (metric.aggregator ?? 'sum') === 'sum';

const sampleKey = (s: Sample) => `${s.metricName ?? ''}\u0000${JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;

/**
 * What the batch service's worker processes reported last, and the counters and histograms of
 * those that exited, summed: the service adds the sum to its scrape, so a replaced worker's jobs
 * stay counted and the summed counters never fall (Prometheus would read a fall as a reset and
 * count the survivors' totals again). Gauges, and series aggregated otherwise than by sum, of a
 * process that is gone are dropped.
 */
export class RetiredMetrics {
  private readonly metrics = new Map<string, { metric: MetricObjectWithValues<MetricValue<string>>; samples: Map<string, Sample> }>();
  private readonly lastAnswers = new Map<object, MetricsJson>();
  private readonly lastWords = new Map<object, MetricsJson>();

  /** A live worker process's answer to a scrape. */
  answered(worker: object, json: MetricsJson): void {
    this.lastAnswers.set(worker, json);
  }

  /** What a worker process sent as it shut down: counted instead of its last answer. */
  lastWordsOf(worker: object, json: MetricsJson): void {
    this.lastWords.set(worker, json);
  }

  /** A worker process exited: its last words (else its last answer) join the sum. */
  retire(worker: object): void {
    this.add(this.lastWords.get(worker) ?? this.lastAnswers.get(worker) ?? []);
    this.lastWords.delete(worker);
    this.lastAnswers.delete(worker);
  }

  /** The exited processes' sum, as `getMetricsAsJSON` gives metrics; empty until one exited. */
  toJson(): MetricsJson {
    return [...this.metrics.values()].map(({ metric, samples }) => ({ ...metric, values: [...samples.values()] }));
  }

  private add(json: MetricsJson): void {
    for (const metric of json) {
      if (!cumulative(metric)) continue;
      let entry = this.metrics.get(metric.name);
      if (entry === undefined) {
        entry = { metric: { ...metric, values: [] }, samples: new Map() };
        this.metrics.set(metric.name, entry);
      }
      for (const sample of metric.values as Sample[]) {
        const key = sampleKey(sample);
        const known = entry.samples.get(key);
        entry.samples.set(key, { ...sample, value: (known?.value ?? 0) + sample.value });
      }
    }
  }
}
