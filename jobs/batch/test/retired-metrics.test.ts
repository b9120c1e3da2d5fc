import { describe, expect, it } from 'vitest';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RetiredMetrics, type MetricsJson } from '../src/retired-metrics.js';

/** A worker process's registry: jobs counted by kind, a gauge, a histogram of two observations. */
async function workerMetrics(completed: number, failed: number, observed: number[]): Promise<MetricsJson> {
  const registry = new Registry();
  const jobs = new Counter({ name: 'jobs_total', help: 'jobs', labelNames: ['kind', 'outcome'], registers: [registry] });
  jobs.inc({ kind: 'recompute', outcome: 'completed' }, completed);
  if (failed > 0) jobs.inc({ kind: 'recompute', outcome: 'failed' }, failed);
  new Gauge({ name: 'rss_bytes', help: 'rss', registers: [registry] }).set(123);
  const seconds = new Histogram({ name: 'job_seconds', help: 'run time', buckets: [1, 10], registers: [registry] });
  for (const s of observed) seconds.observe(s);
  return (await registry.getMetricsAsJSON()) as MetricsJson;
}

describe('RetiredMetrics', () => {
  it('sums the counters and histograms of exited processes (their last words, else their last answer) by label set and drops their gauges', async () => {
    const retired = new RetiredMetrics();
    expect(await retired.toJson()).toEqual([]);
    const [a, b] = [{}, {}];
    retired.answered(a, await workerMetrics(1, 0, [0.5]));
    // Its last words, sent as it shut down, count instead of its last answer.
    retired.lastWordsOf(a, await workerMetrics(2, 1, [0.5, 5]));
    retired.retire(a);
    // Killed: what it answered last counts.
    retired.answered(b, await workerMetrics(3, 0, [20]));
    retired.retire(b);
    const text = await AggregatorRegistry.aggregate([await retired.toJson()]).metrics();
    expect(text).toContain('jobs_total{kind="recompute",outcome="completed"} 5');
    expect(text).toContain('jobs_total{kind="recompute",outcome="failed"} 1');
    // Buckets are cumulative: le=1 holds 0.5; le=10 holds 0.5 and 5; +Inf all three.
    expect(text).toContain('job_seconds_bucket{le="1"} 1');
    expect(text).toContain('job_seconds_bucket{le="10"} 2');
    expect(text).toContain('job_seconds_bucket{le="+Inf"} 3');
    expect(text).toContain('job_seconds_sum 25.5');
    expect(text).toContain('job_seconds_count 3');
    expect(text).not.toContain('rss_bytes');
  });

  it('added to the live processes, keeps the summed counter from falling when a worker is replaced', async () => {
    const before = AggregatorRegistry.aggregate([await workerMetrics(4, 0, []), await workerMetrics(1, 0, [])]);
    const retired = new RetiredMetrics();
    const replaced = {};
    retired.answered(replaced, await workerMetrics(4, 0, []));
    retired.retire(replaced);
    // The replaced worker's successor starts from zero and completes one job.
    const after = AggregatorRegistry.aggregate([await workerMetrics(1, 0, []), await workerMetrics(1, 0, []), await retired.toJson()]);
    expect(await before.metrics()).toContain('jobs_total{kind="recompute",outcome="completed"} 5');
    expect(await after.metrics()).toContain('jobs_total{kind="recompute",outcome="completed"} 6');
  });
});
