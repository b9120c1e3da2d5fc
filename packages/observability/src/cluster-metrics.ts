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
 * Replies awaited over IPC, by request id: each resolves when its answer comes, or fails after
 * `timeoutMs` saying `what` did not answer.
 */
class PendingReplies<T> {
  private readonly waiting = new Map<number, { resolve: (value: T) => void; reject: (err: Error) => void }>();
  private next = 0;

  constructor(private readonly timeoutMs: number) {}

  /** Sends a request with a fresh id (`send`), and waits for its reply. */
  ask(send: (id: number) => void, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.next++;
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${what} did not answer with the metrics within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const settle = () => {
        clearTimeout(timer);
        this.waiting.delete(id);
      };
      this.waiting.set(id, {
        resolve: (value) => (settle(), resolve(value)),
        reject: (err) => (settle(), reject(err)),
      });
      send(id);
    });
  }

  /** The reply to request `id` (ignored when it timed out already). */
  answer(id: number, value: T): void {
    this.waiting.get(id)?.resolve(value);
  }

  fail(id: number, err: Error): void {
    this.waiting.get(id)?.reject(err);
  }
}

/**
 * In the primary: answers workers' `/metrics` with the sum over the workers `listening` names
 * (prom-client's aggregation: counters and histograms add up, gauges by their aggregator). A
 * worker still starting is not asked: it has served nothing yet, and it could not answer
 * (prom-client's own cluster aggregation asks every worker and failed, after 5 s, while one was
 * starting). A listening worker that does not answer within `timeoutMs` fails the request.
 */
export function aggregateWorkerMetrics(listening: () => Iterable<Worker>, timeoutMs = 5_000): void {
  const replies = new PendingReplies<MetricsJson>(timeoutMs);
  const ask = (worker: Worker) => replies.ask((id) => worker.send({ type: workerRequest, id } satisfies WorkerMetricsRequest), `worker ${worker.id}`);
  cluster.on('message', (worker, message: MetricsRequest | WorkerMetricsResponse) => {
    if (message?.type === workerResponse) {
      replies.answer(message.id, message.metrics);
      return;
    }
    if (message?.type !== request) return;
    Promise.all([...listening()].filter((w) => w.isConnected()).map(ask))
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
  const replies = new PendingReplies<string>(timeoutMs);
  process.on('message', (message: MetricsResponse | WorkerMetricsRequest) => {
    if (message?.type === workerRequest) {
      void registry.getMetricsAsJSON().then((metrics) => process.send?.({ type: workerResponse, id: message.id, metrics } satisfies WorkerMetricsResponse));
      return;
    }
    if (message?.type !== response) return;
    if (message.error !== undefined) replies.fail(message.id, new Error(message.error));
    else replies.answer(message.id, message.text ?? '');
  });
  return () => replies.ask((id) => process.send?.({ type: request, id } satisfies MetricsRequest), 'the primary');
}
