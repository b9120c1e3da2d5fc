import { KafkaUnavailableError } from './errors.js';

/** A message with a value whose size the group commit can weigh. */
export interface SizedMessage {
  readonly value: string | Buffer;
}

export interface GroupCommitOptions {
  /** Fail a send that is not acknowledged within this time. */
  readonly timeoutMs: number;
  /** Sends beyond this many queued messages fail at once (Kafka slow or down) instead of growing memory. */
  readonly maxQueuedMessages: number;
  /**
   * Value bytes of one produce at most (a single larger message goes alone): the broker refuses
   * a partition's record batch over `message.max.bytes` (1 MiB by default), and retrying the
   * same batch fails the same way.
   */
  readonly maxBatchBytes: number;
  /** Messages of one produce at most, likewise. */
  readonly maxBatchMessages: number;
}

/** A run of a send's messages that fits one produce, and who waits for it. */
interface Waiter {
  readonly count: number;
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/**
 * Group commit for a producer that allows one produce in flight (an idempotent one): while a
 * produce is in flight, later sends queue and go out together in the next one, so every
 * caller waits for at most about two broker round trips instead of one per caller ahead of it.
 * A send resolves once its messages are acknowledged; it fails with
 * {@link KafkaUnavailableError} when the produce fails, when it takes longer than `timeoutMs`,
 * or at once when too many messages wait already.
 */
export class GroupCommit<M extends SizedMessage> {
  private queued: M[] = [];
  private waiters: Waiter[] = [];
  private inFlight = false;

  constructor(
    private readonly produce: (messages: M[]) => Promise<void>,
    private readonly options: GroupCommitOptions,
  ) {}

  /** Messages waiting for the next produce. */
  get queuedMessages(): number {
    return this.queued.length;
  }

  /**
   * Resolves once nothing is queued or in flight (the produces of sends that timed out
   * included), or after `timeoutMs` at most (Kafka down: the producer retries without end).
   */
  async idle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  /**
   * Queues messages for the next produce; resolves once Kafka acknowledged all of them. A send
   * larger than one produce goes out in several, each within the bounds (a message over
   * `maxBatchBytes` alone), and fails when any of them fails.
   */
  send(messages: readonly M[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    if (this.queued.length + messages.length > this.options.maxQueuedMessages) {
      return Promise.reject(new KafkaUnavailableError(`Kafka is behind: ${this.queued.length} messages already wait for a produce`));
    }
    for (const m of messages) this.queued.push(m);
    const parts = this.partsOf(messages).map(
      ({ count, bytes }) => new Promise<void>((resolve, reject) => this.waiters.push({ count, bytes, resolve, reject })),
    );
    if (!this.inFlight) void this.flush();
    return this.withTimeout(parts.length === 1 ? (parts[0] as Promise<void>) : Promise.all(parts).then(() => undefined));
  }

  /** A send's messages cut into runs that each fit one produce: their counts and value bytes. */
  private partsOf(messages: readonly M[]): { count: number; bytes: number }[] {
    const { maxBatchBytes, maxBatchMessages } = this.options;
    const parts: { count: number; bytes: number }[] = [];
    let count = 0;
    let bytes = 0;
    for (const m of messages) {
      const size = valueBytes(m.value);
      if (count > 0 && (bytes + size > maxBatchBytes || count === maxBatchMessages)) {
        parts.push({ count, bytes });
        count = 0;
        bytes = 0;
      }
      count++;
      bytes += size;
    }
    parts.push({ count, bytes });
    return parts;
  }

  private async flush(): Promise<void> {
    this.inFlight = true;
    while (this.waiters.length > 0) {
      const { messages, waiters } = this.takeBatch();
      try {
        await this.produce(messages);
        for (const w of waiters) w.resolve();
      } catch (cause) {
        const err = new KafkaUnavailableError(`Kafka refused the produce: ${reasonsOf(cause)}`, { cause });
        for (const w of waiters) w.reject(err);
      }
    }
    this.inFlight = false;
  }

  /** The queued runs that fit in one produce (at least one), whole. */
  private takeBatch(): { messages: M[]; waiters: Waiter[] } {
    let count = 0;
    let bytes = 0;
    let n = 0;
    while (n < this.waiters.length) {
      const w = this.waiters[n] as Waiter;
      if (n > 0 && (bytes + w.bytes > this.options.maxBatchBytes || count + w.count > this.options.maxBatchMessages)) break;
      count += w.count;
      bytes += w.bytes;
      n++;
    }
    const waiters = this.waiters.splice(0, n);
    const messages = count === this.queued.length ? this.queued : this.queued.slice(0, count);
    this.queued = count === this.queued.length ? [] : this.queued.slice(count);
    return { messages, waiters };
  }

  private async withTimeout(done: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new KafkaUnavailableError(`Kafka did not acknowledge within ${this.options.timeoutMs} ms`)),
        this.options.timeoutMs,
      );
    });
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A value's bytes on the wire: a string's UTF-8 length (its `length` counts UTF-16 units, up to 3 times fewer). */
function valueBytes(value: string | Buffer): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

/**
 * A refused produce's reasons: the client's error message, then the messages at the ends of its
 * AggregateErrors (one per broker request, then one per partition the broker answered with an
 * error: what the broker said), the first three.
 */
function reasonsOf(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  const leaves = leafMessages(cause);
  if (leaves.length === 0 || (leaves.length === 1 && leaves[0] === message)) return message;
  const more = leaves.length > 3 ? ` (and ${leaves.length - 3} more)` : '';
  return `${message}: ${leaves.slice(0, 3).join('; ')}${more}`;
}

function leafMessages(err: unknown): string[] {
  if (err instanceof AggregateError && err.errors.length > 0) return (err.errors as unknown[]).flatMap(leafMessages);
  return [err instanceof Error ? err.message : String(err)];
}
