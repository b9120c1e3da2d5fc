import type { MetricObjectWithValues, MetricValue } from 'prom-client';

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];
type Sample = MetricValue<string> & { metricName?: string };

/** Series that only grow and are summed over the processes: what a process that is gone still counts for. */
const cumulative = (metric: MetricObjectWithValues<MetricValue<string>>) => (String(metric.type) === 'counter' || String(metric.type) === 'histogram') && (metric.aggregator ?? 'sum') === 'sum';

const sampleKey = (s: Sample) => `${s.metricName ?? ''}\u0000${JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;

/**
 * The counters and histograms of worker processes that exited, summed: the batch service adds
 * them to its scrape, so a replaced worker's jobs stay counted and the summed counters never
 * fall (Prometheus would read a fall as a reset and count the survivors' totals again). Gauges,
 * and series aggregated otherwise than by sum, of a process that is gone are dropped.
 */
export class RetiredMetrics {
  private readonly metrics = new Map<string, { metric: MetricObjectWithValues<MetricValue<string>>; samples: Map<string, Sample> }>();

  /** Adds the last metrics of a process that exited. */
  add(json: MetricsJson): void {
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

  /** As `getMetricsAsJSON` gives them; empty until a process exited. */
  toJson(): MetricsJson {
    return [...this.metrics.values()].map(({ metric, samples }) => ({ ...metric, values: [...samples.values()] }));
  }
}
