import { load, save } from './storage.js';

/** One event as the tracker sends it (the collector checks it against the contract). */
export type TrackedEvent = Record<string, unknown> & { event_id: string; type: string; user_id: string; ts: number };

const QUEUE_KEY = 'sigflow_queue';
/** Beacons and keepalive fetches may carry 64 KiB each; stay below it. */
const MAX_BODY = 60_000;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;

export interface TransportOptions {
  /** `POST` target, site key included. */
  readonly url: string;
  readonly flushMs: number;
  readonly batchSize: number;
  readonly maxQueue: number;
}

/** Splits events into bodies of at most MAX_BODY bytes (JSON arrays). */
function bodies(events: readonly TrackedEvent[]): string[] {
  const out: string[] = [];
  let part: string[] = [];
  let size = 2;
  for (const e of events) {
    const json = JSON.stringify(e);
    if (part.length > 0 && size + json.length + 1 > MAX_BODY) {
      out.push(`[${part.join(',')}]`);
      part = [];
      size = 2;
    }
    part.push(json);
    size += json.length + 1;
  }
  if (part.length > 0) out.push(`[${part.join(',')}]`);
  return out;
}

/**
 * Batches events and sends them: every `flushMs`, at `batchSize` events, and on `pagehide`
 * with `sendBeacon`; otherwise `fetch` with keepalive. A failed send (network, 5xx, 429) is
 * retried with exponential backoff and jitter; meanwhile events wait in a bounded queue (the
 * oldest are dropped first), kept in localStorage across page loads while undelivered. Events
 * the collector rejected (4xx) are not retried: they would be rejected again.
 */
export class Transport {
  private queue: TrackedEvent[] = [];
  private sending = false;
  private failures = 0;
  private retryAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly options: TransportOptions) {
    try {
      const saved = JSON.parse(load(QUEUE_KEY) || '[]') as TrackedEvent[];
      if (Array.isArray(saved)) this.queue = saved.slice(-options.maxQueue);
    } catch {
      // a damaged saved queue is dropped
    }
    save(QUEUE_KEY, null, false);
    this.schedule(this.queue.length > 0 ? 0 : options.flushMs);
  }

  push(event: TrackedEvent): void {
    if (this.stopped) return;
    this.queue.push(event);
    if (this.queue.length > this.options.maxQueue) this.queue.splice(0, this.queue.length - this.options.maxQueue);
    if (this.queue.length >= this.options.batchSize) this.flush();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), ms);
  }

  /** Sends the next batch with fetch (keepalive), unless one is in flight or a retry is pending. */
  flush(): void {
    if (this.stopped || this.sending) return;
    const wait = this.retryAt - Date.now();
    if (wait > 0 || this.queue.length === 0 || navigator.onLine === false) {
      this.schedule(wait > 0 ? wait : this.options.flushMs);
      return;
    }
    const batch = this.queue.splice(0, this.options.batchSize);
    this.sending = true;
    const body = bodies(batch);
    Promise.all(body.map((b) => fetch(this.options.url, { method: 'POST', body: b, keepalive: true, credentials: 'omit', headers: { 'content-type': 'text/plain' } })))
      .then((answers) => {
        const retry = answers.some((a) => a.status >= 500 || a.status === 429 || a.status === 408);
        if (retry) throw new Error('retry');
        this.failures = 0;
        this.retryAt = 0;
      })
      .catch(() => {
        // Resent events keep their event_id: the layers drop a copy that did arrive.
        this.queue = batch.concat(this.queue).slice(-this.options.maxQueue);
        this.failures++;
        const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.failures - 1));
        this.retryAt = Date.now() + backoff / 2 + Math.random() * (backoff / 2);
        this.persist();
      })
      .then(() => {
        this.sending = false;
        this.schedule(this.queue.length >= this.options.batchSize ? 0 : this.options.flushMs);
      });
  }

  /** Page going away: everything queued goes out by `sendBeacon`; what it refuses is kept for the next page. */
  flushOnHide(): void {
    if (this.stopped || this.queue.length === 0) return;
    const events = this.queue;
    this.queue = [];
    const kept: TrackedEvent[] = [];
    let offset = 0;
    for (const body of bodies(events)) {
      const count = (JSON.parse(body) as unknown[]).length;
      const sent = typeof navigator.sendBeacon === 'function' && navigator.sendBeacon(this.options.url, new Blob([body], { type: 'text/plain' }));
      if (!sent) kept.push(...events.slice(offset, offset + count));
      offset += count;
    }
    this.queue = kept;
    this.persist();
  }

  /** Keeps undelivered events for the next page load. */
  private persist(): void {
    save(QUEUE_KEY, this.queue.length > 0 ? JSON.stringify(this.queue) : null, false);
  }

  /** Drops everything queued and sends nothing more (opt-out). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.queue = [];
    save(QUEUE_KEY, null, false);
  }
}
