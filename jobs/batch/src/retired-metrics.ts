import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** Series that only grow and are summed over the processes: what a process that is gone still counts for. */
const cumulative = (metric: MetricObjectWithValues<MetricValue<string>>) => (String(metric.type) === 'counter' || String(metric.type) === 'histogram') && (metric.aggregator ?? 'sum') === 'sum';

/**
 * What the batch service's worker processes reported last, and the counters and histograms of
 * those that exited, summed (by prom-client's aggregation, as the scrape sums the live ones): the
 * service adds the sum to its scrape, so a replaced worker's jobs stay counted and the summed
 * counters never fall (Prometheus would read a fall as a reset and count the survivors' totals
 * again). Gauges, and series aggregated otherwise than by sum, of a process that is gone are dropped.
 */
export class RetiredMetrics {
  private sum: Promise<MetricsJson> = Promise.resolve([]);
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
    const last = (this.lastWords.get(worker) ?? this.lastAnswers.get(worker) ?? []).filter(cumulative);
    this.lastWords.delete(worker);
    this.lastAnswers.delete(worker);
    if (last.length > 0) this.sum = this.sum.then(async (sum) => (await AggregatorRegistry.aggregate([sum, last]).getMetricsAsJSON()) as MetricsJson);
  }

  /** The exited processes' sum, as `getMetricsAsJSON` gives metrics; empty until one exited. */
  toJson(): Promise<MetricsJson> {
    return this.sum;
  }
}
