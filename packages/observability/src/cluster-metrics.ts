import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/** IPC between a worker's `/metrics` and the primary, and between the primary and each worker. */
const request = 'sigflow:server-metrics';
const response = 'sigflow:server-metrics-result';
const workerRequest = 'sigflow:worker-metrics';
const workerResponse = 'sigflow:worker-metrics-result';

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

interface WorkerMetricsRequest {
  readonly type: typeof workerRequest;
  readonly id: number;
}

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

interface WorkerMetricsResponse {
  readonly type: typeof workerResponse;
  readonly id: number;
  readonly metrics: MetricsJson;
}

/**
 * In the primary: answers workers' `/metrics` with the sum over every worker that listens
 * (prom-client's aggregation: counters and histograms add up, gauges by their aggregator). A
 * worker still starting is not asked: it has served nothing yet, and it could not answer
 * (prom-client's own cluster aggregation asks every worker and failed, after 5 s, while one was
 * starting). A listening worker that does not answer within `timeoutMs` fails the request.
 */
export function aggregateWorkerMetrics(timeoutMs = 5_000): void {
  const listening = new Set<Worker>();
  cluster.on('listening', (worker) => listening.add(worker));
  cluster.on('exit', (worker) => listening.delete(worker));
  const waiting = new Map<number, (metrics: MetricsJson) => void>();
  let next = 0;
  const ask = (worker: Worker): Promise<MetricsJson> =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`worker ${worker.id} did not answer with its metrics within ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(id, (metrics) => {
        clearTimeout(timer);
        resolve(metrics);
      });
      worker.send({ type: workerRequest, id } satisfies WorkerMetricsRequest);
    });
  cluster.on('message', (worker, message: MetricsRequest | WorkerMetricsResponse) => {
    if (message?.type === workerResponse) {
      const answer = waiting.get(message.id);
      waiting.delete(message.id);
      answer?.(message.metrics);
      return;
    }
    if (message?.type !== request) return;
    Promise.all([...listening].filter((w) => w.isConnected()).map(ask))
      .then((all) => AggregatorRegistry.aggregate(all).metrics())
      .then(
        (text) => worker.send({ type: response, id: message.id, text } satisfies MetricsResponse),
        (err: Error) => worker.send({ type: response, id: message.id, error: err.message } satisfies MetricsResponse),
      );
  });
}

/**
 * In a worker: answers the primary's requests for `registry`'s metrics, and returns what
 * `/metrics` serves, the metrics of all listening workers (asked from the primary over IPC).
 */
export function clusterMetricsText(registry: Registry, timeoutMs = 10_000): () => Promise<string> {
  const pending = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void }>();
  let next = 0;
  process.on('message', (message: MetricsResponse | WorkerMetricsRequest) => {
    if (message?.type === workerRequest) {
      void registry.getMetricsAsJSON().then((metrics) => process.send?.({ type: workerResponse, id: message.id, metrics } satisfies WorkerMetricsResponse));
      return;
    }
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
