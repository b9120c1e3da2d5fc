/** The messages between the Kafka sink and its producer threads (`produce-worker.ts`). */
import type { ConnectionSecurity } from '@sigflow/kafka/data-path';

/** What the sink passes to a worker at start. */
export interface ProduceWorkerSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly topic: string;
  readonly acks: -1 | 1;
  /** Produce requests in flight on the connection. */
  readonly inFlight: number;
  readonly timeoutMs: number;
  /** Attempts of a failed batch after the first. */
  readonly retries: number;
  /** TLS and SASL of the connections (plain data: it crosses to the threads). */
  readonly security?: ConnectionSecurity;
}

/**
 * A batch: `index` holds, per message, the start of its key, the start of its value (= the
 * end of the key), the end of its value and its partition.
 */
export interface ProduceBatch {
  readonly type: 'batch';
  readonly id: number;
  readonly data: ArrayBuffer;
  readonly index: ArrayBuffer;
  readonly count: number;
}

/** What a worker reports. */
export type ProduceWorkerReport =
  | { readonly type: 'ready'; readonly partitions: number }
  | { readonly type: 'attemptFailed'; readonly id: number; readonly message: string; readonly retrying: boolean }
  | { readonly type: 'done'; readonly id: number; readonly ok: boolean }
  | { readonly type: 'fatal'; readonly message: string };

/** Entries per message in a batch's index. */
export const indexStride = 4;
