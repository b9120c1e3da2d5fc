import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/** IPC message types between a server worker and the primary. */
const request = 'sigflow:server-metrics';
const response = 'sigflow:server-metrics-result';

interface MetricsRequest {
  readonly type: typeof request;
  readonly id: number;
}

interface MetricsResponse {
  readonly type: typeof response;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

/**
 * In the primary: answers workers' `/metrics` with the sum over every worker (prom-client's
 * cluster aggregation: counters and histograms add up, gauges by their aggregator).
 */
export function aggregateWorkerMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: MetricsRequest) => {
    if (message?.type !== request) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: response, id: message.id, text } satisfies MetricsResponse),
      (err: Error) => worker.send({ type: response, id: message.id, error: err.message } satisfies MetricsResponse),
    );
  });
}

/**
 * In a worker: offers `registry` to the primary's aggregation and returns what `/metrics`
 * serves, the metrics of all workers (asked from the primary over IPC).
 */
export function clusterMetricsText(registry: Registry, timeoutMs = 5_000): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // answers the primary's requests for this worker's metrics
  const pending = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void }>();
  let next = 0;
  process.on('message', (message: MetricsResponse) => {
    if (message?.type !== response) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.text ?? '');
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the primary did not answer with the metrics'));
      }, timeoutMs);
      pending.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      process.send?.({ type: request, id } satisfies MetricsRequest);
    });
}
