import type { Kafka } from 'kafkajs';
import { EventProducer, type EventMessage } from '@sigflow/kafka';
import { emptySinkStats, sleep, type EventSink, type SinkEvent, type SinkStats } from './event-sink.js';
import { WireProducer } from './wire-producer.js';

export interface KafkaSinkOptions {
  readonly kafka: Kafka;
  /** The events topic (with its prefix). */
  readonly topic: string;
  /** Partitions the generator assumed; `connect` checks the topic has exactly these. */
  readonly partitions: number;
  /**
   * `wire` (default): the sink's own Produce requests, written straight from the
   * pre-serialized JSON, pipelined (several hundred thousand events/s).
   * `kafkajs`: `EventProducer` from `@sigflow/kafka` (idempotent: false), one request per
   * lane at a time (slower: kafkajs builds several objects per message).
   */
  readonly producer?: 'wire' | 'kafkajs';
  /** Messages per produce request, at most. Default 20 000 (wire), 1 000 (kafkajs). */
  readonly sendSize?: number;
  /**
   * Bytes of one partition's messages per request, at most (the broker refuses a record
   * batch over `message.max.bytes`, 1 MiB by default). Default 64 000 (wire: smaller
   * requests, more in flight, fewer events held in memory), 900 000 (kafkajs).
   */
  readonly maxBatchBytes?: number;
  /** Produce requests in flight. Default 8 (wire), 4 (kafkajs). */
  readonly inFlight?: number;
  /** Attempts of a failed send. Default 5. */
  readonly retries?: number;
  /** Per-request acknowledgement timeout, ms. Default 30 000. */
  readonly timeoutMs?: number;
  /** A partial request goes out at most this long after its first event (slow runs). Default 50 ms. */
  readonly lingerMs?: number;
}

interface Lane {
  pending: SinkEvent[];
  /** The partitions of this lane. */
  readonly partitions: number[];
  /** kafkajs: the lane's sends, one after the other. */
  chain: Promise<void>;
}

/** A message with its partition set (kafkajs then skips hashing the key; same partition). */
type PartitionedMessage = EventMessage & { partition: number };

/**
 * Writes events straight to Kafka (the fast path): the generator's pre-serialized JSON
 * with `received_at` (wall clock at send) appended, large produce requests, several in
 * flight, no idempotence. Every partition receives its events in the order written:
 * the wire producer pipelines requests on one connection per broker (Kafka handles them
 * in order); the kafkajs producer splits the partitions over lanes that each send one
 * request at a time. After a failed request is retried, order is only guaranteed in the
 * kafkajs mode (the error is counted either way).
 */
export class KafkaSink implements EventSink {
  readonly stats: SinkStats = emptySinkStats();
  private readonly mode: 'wire' | 'kafkajs';
  private readonly eventProducer: EventProducer | undefined;
  private readonly wire: WireProducer | undefined;
  private readonly lanes: Lane[];
  private readonly sendSize: number;
  private readonly maxBatchBytes: number;
  private readonly maxInFlight: number;
  /** Bytes pending per partition (in its lane's pending list). */
  private readonly partitionBytes: Float64Array;
  private readonly retries: number;
  private readonly inFlight = new Set<Promise<void>>();
  private queued = 0;
  private readonly highWater: number;
  private drainWaiters: (() => void)[] = [];
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: KafkaSinkOptions) {
    this.mode = options.producer ?? 'wire';
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (this.mode === 'wire') {
      this.wire = new WireProducer(options.kafka, options.topic, { timeoutMs });
    } else {
      this.eventProducer = new EventProducer(options.kafka, options.topic, { idempotent: false, timeoutMs });
    }
    this.sendSize = options.sendSize ?? (this.mode === 'wire' ? 20_000 : 1_000);
    this.maxBatchBytes = options.maxBatchBytes ?? (this.mode === 'wire' ? 64_000 : 900_000);
    this.partitionBytes = new Float64Array(options.partitions);
    this.retries = options.retries ?? 5;
    this.maxInFlight = Math.max(1, options.inFlight ?? (this.mode === 'wire' ? 8 : 4));
    const laneCount = this.mode === 'wire' ? 1 : Math.min(this.maxInFlight, options.partitions);
    this.lanes = Array.from({ length: laneCount }, (_, i) => ({
      pending: [],
      partitions: Array.from({ length: options.partitions }, (_p, p) => p).filter((p) => p % laneCount === i),
      chain: Promise.resolve(),
    }));
    this.highWater = this.sendSize * this.maxInFlight * 2;
  }

  /** Connects and checks that the topic has the partition count the generator assumed. */
  async connect(): Promise<void> {
    let count: number;
    if (this.wire) {
      count = await this.wire.connect();
    } else {
      const admin = this.options.kafka.admin();
      await admin.connect();
      try {
        const meta = await admin.fetchTopicMetadata({ topics: [this.options.topic] });
        count = meta.topics[0]?.partitions.length ?? 0;
      } finally {
        await admin.disconnect();
      }
    }
    if (count !== this.options.partitions) {
      throw new Error(
        `topic ${this.options.topic} has ${count} partitions but the generator assumed ${this.options.partitions}; ` +
          'partition-local labels (late, IP floods) would be wrong',
      );
    }
    await this.eventProducer?.connect();
  }

  async write(events: readonly SinkEvent[]): Promise<void> {
    const lanes = this.lanes;
    const n = lanes.length;
    const bytes = this.partitionBytes;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i] as SinkEvent;
      const p = ev.partition;
      const lane = lanes[p % n] as Lane;
      // Value plus received_at, key and record overhead.
      const size = ev.json.length + ev.key.length + 48;
      if ((bytes[p] as number) + size > this.maxBatchBytes && lane.pending.length > 0) this.dispatch(lane);
      lane.pending.push(ev);
      bytes[p] = (bytes[p] as number) + size;
      if (lane.pending.length >= this.sendSize) this.dispatch(lane);
    }
    this.lingerTimer ??= setTimeout(() => {
      this.lingerTimer = undefined;
      for (const lane of this.lanes) if (lane.pending.length > 0) this.dispatch(lane);
    }, this.options.lingerMs ?? 50);
    while (this.queued > this.highWater || this.inFlight.size > this.maxInFlight) {
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
  }

  async flush(): Promise<void> {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    for (const lane of this.lanes) if (lane.pending.length > 0) this.dispatch(lane);
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.eventProducer?.disconnect();
      await this.wire?.disconnect();
    }
  }

  private dispatch(lane: Lane): void {
    const events = lane.pending;
    lane.pending = [];
    for (const p of lane.partitions) this.partitionBytes[p] = 0;
    this.queued += events.length;
    let request: Promise<void>;
    if (this.wire) {
      // Pipelined: the request is written to the socket now, in dispatch order.
      request = this.sendWire(events);
    } else {
      request = lane.chain = lane.chain.then(() => this.sendKafkajs(events));
    }
    const tracked = request.finally(() => {
      this.inFlight.delete(tracked);
      this.queued -= events.length;
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const wake of waiters) wake();
    });
    this.inFlight.add(tracked);
  }

  private async sendWire(events: SinkEvent[]): Promise<void> {
    const wire = this.wire as WireProducer;
    for (let attempt = 0; ; attempt++) {
      try {
        await wire.send(events, Date.now());
        this.stats.sent += events.length;
        return;
      } catch (err) {
        if (!(await this.failed(err, attempt, events.length))) return;
      }
    }
  }

  private async sendKafkajs(events: SinkEvent[]): Promise<void> {
    const producer = this.eventProducer as EventProducer;
    for (let attempt = 0; ; attempt++) {
      // received_at: the wall clock at send, stamped into the pre-serialized JSON.
      const suffix = `,"received_at":${Date.now()}}`;
      const messages = new Array<PartitionedMessage>(events.length);
      for (let i = 0; i < events.length; i++) {
        const ev = events[i] as SinkEvent;
        messages[i] = { key: ev.key, value: ev.json.slice(0, -1) + suffix, partition: ev.partition };
      }
      try {
        await producer.send(messages);
        this.stats.sent += events.length;
        return;
      } catch (err) {
        if (!(await this.failed(err, attempt, events.length))) return;
      }
    }
  }

  /** Counts a failed attempt; waits and returns true when it should be retried. */
  private async failed(err: unknown, attempt: number, count: number): Promise<boolean> {
    this.stats.errors++;
    this.stats.lastError = (err as Error).message;
    if (attempt >= this.retries) {
      this.stats.failed += count;
      return false;
    }
    this.stats.retries++;
    await sleep(Math.min(5_000, 200 * 2 ** attempt));
    return true;
  }
}
