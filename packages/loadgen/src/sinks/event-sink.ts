import type { GeneratedEvent } from '../generated-event.js';

/** What a sink has done so far. */
export interface SinkStats {
  /** Events acknowledged: by Kafka (Kafka sink) or accepted by the collector (HTTP sink). */
  sent: number;
  /** Events given up on after the retries (not written, as far as the sink knows). */
  failed: number;
  /** Events the collector answered as rejected (with a reason). */
  rejected: number;
  /** Count per rejection reason (the first 100 distinct reasons; the rest under "other"). */
  rejectReasons: Record<string, number>;
  /** Failed attempts (a refused or timed-out send, a 503, a connection error). */
  errors: number;
  /** Attempts repeated after an error. */
  retries: number;
  /** The most recent error's message. */
  lastError?: string;
}

/**
 * What a sink needs of an event: its Kafka key, partition and pre-serialized JSON (a
 * {@link GeneratedEvent} has them; a benchmark may keep just these three fields).
 */
export type SinkEvent = Pick<GeneratedEvent, 'key' | 'partition' | 'json'>;

/** Where generated events go. Events of one partition are delivered in the order written. */
export interface EventSink {
  /** Hands events over; resolves when the sink can take more (backpressure). */
  write(events: readonly SinkEvent[]): Promise<void>;
  /** Resolves once everything written so far is acknowledged or given up on. */
  flush(): Promise<void>;
  /** Flushes and releases connections. */
  close(): Promise<void>;
  readonly stats: SinkStats;
}

export function emptySinkStats(): SinkStats {
  return { sent: 0, failed: 0, rejected: 0, rejectReasons: {}, errors: 0, retries: 0 };
}

/** Counts a rejection reason, keeping the map small. */
export function countReason(stats: SinkStats, reason: string, n = 1): void {
  const reasons = stats.rejectReasons;
  const key = reason in reasons || Object.keys(reasons).length < 100 ? reason : 'other';
  reasons[key] = (reasons[key] ?? 0) + n;
}

/** Waits `ms`, or less when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
