import { eventLimits } from '@sigflow/events';
import { countReason, emptySinkStats, sleep, type EventSink, type SinkEvent, type SinkStats } from './event-sink.js';

export interface HttpSinkOptions {
  /** The collector's base URL, e.g. `http://127.0.0.1:7001`. */
  readonly url: string;
  /** Sent as `x-api-key` when set. */
  readonly apiKey?: string;
  /** Events per request. Default 500 (the contract allows 1 000 and 1 MiB). */
  readonly batchSize?: number;
  /**
   * Requests in flight. Default 1, which keeps the order of events in Kafka equal to the
   * generated order (what the late and duplicate labels assume).
   */
  readonly concurrency?: number;
  /** Attempts after a 503, 429, 5xx or connection error before a batch is given up. Default 30. */
  readonly maxRetries?: number;
  /** Per-request timeout, ms. Default 30 000. */
  readonly timeoutMs?: number;
  /** A partial batch goes out at most this long after its first event (slow runs). Default 100 ms. */
  readonly lingerMs?: number;
  /**
   * Once `close` is called, batches still failing get this long (ms) to go through, then count
   * as failed: a stopping generator does not wait out a collector that is gone (its retries
   * could take minutes). Default 5 000.
   */
  readonly closeGraceMs?: number;
}

interface IngestAnswer {
  accepted?: number;
  rejected?: { index: number; reason: string }[];
}

/**
 * Sends events through the collector: `POST /v1/events` with a JSON array per batch. A
 * 503 (Kafka down) or 429 is retried after its Retry-After, connection errors and other
 * 5xx with exponential backoff; rejected events are counted with their reasons. A batch
 * that is retried after the collector may have written part of it can leave extra copies
 * in Kafka (at-least-once); the platform removes them as duplicates.
 */
export class HttpSink implements EventSink {
  readonly stats: SinkStats = emptySinkStats();
  private readonly endpoint: string;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private pending: SinkEvent[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private lingerTimer: NodeJS.Timeout | undefined;
  /** Dispatches run one after the other (a linger flush may meet a write). */
  private dispatching: Promise<void> = Promise.resolve();
  /** Aborted `closeGraceMs` after `close`: requests and retries in progress stop. */
  private readonly closed = new AbortController();

  constructor(private readonly options: HttpSinkOptions) {
    this.endpoint = new URL('/v1/events', options.url).toString();
    this.batchSize = Math.min(eventLimits.maxBatchEvents, Math.max(1, options.batchSize ?? 500));
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.maxRetries = options.maxRetries ?? 30;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async write(events: readonly SinkEvent[]): Promise<void> {
    for (const ev of events) {
      this.pending.push(ev);
      if (this.pending.length >= this.batchSize) await this.dispatch();
    }
    if (this.pending.length > 0) {
      this.lingerTimer ??= setTimeout(() => {
        this.lingerTimer = undefined;
        void this.dispatch();
      }, this.options.lingerMs ?? 100);
    }
  }

  async flush(): Promise<void> {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    await this.dispatch();
    await Promise.all(this.inFlight);
  }

  async close(): Promise<void> {
    const grace = setTimeout(() => this.closed.abort(), this.options.closeGraceMs ?? 5_000);
    try {
      await this.flush();
    } finally {
      clearTimeout(grace);
    }
  }

  /** Sends what is pending as one batch, once a request slot is free. */
  private dispatch(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return this.dispatching;
    this.dispatching = this.dispatching.then(async () => {
      while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
      const request = this.post(batch).finally(() => this.inFlight.delete(request));
      this.inFlight.add(request);
    });
    return this.dispatching;
  }

  /** Posts one batch (split in halves while it is over the byte limit). */
  private async post(events: SinkEvent[]): Promise<void> {
    const body = `[${events.map((e) => e.json).join(',')}]`;
    if (Buffer.byteLength(body) > eventLimits.maxBatchBytes && events.length > 1) {
      const half = Math.ceil(events.length / 2);
      await this.post(events.slice(0, half));
      await this.post(events.slice(half));
      return;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.apiKey) headers['x-api-key'] = this.options.apiKey;
    for (let attempt = 0; ; attempt++) {
      let wait: number;
      try {
        const res = await fetch(this.endpoint, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.closed.signal]),
        });
        if (res.status === 202 || res.status === 200) {
          this.accepted(events.length, (await res.json().catch(() => ({}))) as IngestAnswer);
          return;
        }
        const text = await res.text().catch(() => '');
        if (res.status === 400) {
          // Every event of the batch was rejected: the answer lists them with their reasons.
          const answer = parseAnswer(text);
          if (answer) {
            this.accepted(events.length, answer);
            return;
          }
        }
        this.stats.lastError = `HTTP ${res.status}: ${reasonOf(text)}`;
        if (res.status === 503 || res.status === 429) {
          wait = retryAfterMs(res.headers.get('retry-after')) ?? backoff(attempt);
        } else if (res.status >= 500) {
          wait = backoff(attempt);
        } else {
          // 400 (a malformed request), 401, 413...: retrying would not help.
          this.stats.errors++;
          this.stats.rejected += events.length;
          countReason(this.stats, `HTTP ${res.status}: ${reasonOf(text)}`, events.length);
          return;
        }
      } catch (err) {
        // Connection refused or reset, timeout.
        this.stats.lastError = (err as Error).message;
        wait = backoff(attempt);
      }
      this.stats.errors++;
      if (attempt >= this.maxRetries || this.closed.signal.aborted) {
        this.stats.failed += events.length;
        return;
      }
      this.stats.retries++;
      await sleep(wait, this.closed.signal);
    }
  }

  private accepted(count: number, answer: IngestAnswer): void {
    const rejected = Array.isArray(answer.rejected) ? answer.rejected : [];
    this.stats.sent += typeof answer.accepted === 'number' ? answer.accepted : count - rejected.length;
    this.stats.rejected += rejected.length;
    for (const r of rejected) countReason(this.stats, String(r.reason));
  }
}

function parseAnswer(text: string): IngestAnswer | undefined {
  try {
    const parsed = JSON.parse(text) as IngestAnswer;
    return Array.isArray(parsed.rejected) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function backoff(attempt: number): number {
  return Math.min(5_000, 100 * 2 ** attempt);
}

/** Retry-After as seconds or an HTTP date, in ms (undefined when absent or unreadable). */
export function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function reasonOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
    const message = parsed.message ?? parsed.error;
    if (typeof message === 'string') return message.slice(0, 200);
  } catch {
    // not JSON
  }
  return text.slice(0, 200) || 'no body';
}
