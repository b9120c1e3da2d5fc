import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { BatchProducer } from './batch-producer.js';
import { emptySinkStats, type EventSink, type SinkEvent, type SinkStats } from './event-sink.js';
import { encodeBatch } from './produce-batch.js';
import type { ConnectionSecurity } from '@sigflow/kafka/data-path';
import type { ProduceBatch, ProduceWorkerReport, ProduceWorkerSettings } from './produce-protocol.js';

export interface KafkaSinkOptions {
  /** Kafka bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[];
  /** The events topic (with its prefix). */
  readonly topic: string;
  /** Partitions the generator assumed; `connect` checks the topic has exactly these. */
  readonly partitions: number;
  /** Kafka client id. Default `sigflow-loadgen`. */
  readonly clientId?: string;
  /** TLS and SASL (`connectionSecurity` of the configuration); none by default. */
  readonly security?: ConnectionSecurity;
  /**
   * Producer threads; each owns the partitions `p` with `p % workers` equal to its number,
   * so a partition's events leave in the order written. Default: the cores (at most 2), at
   * most the partitions. 0: one producer in the sink's own thread, which costs the least CPU
   * per event when the rate is paced below what one thread can send (no hand-over between
   * threads): pregenerated, in 5 ms requests, 6.4 µs an event at 50,000 events/s and 5.6 at
   * 70,000, against 11.1 and 9.5 with two threads (`bench:speed`'s generator).
   */
  readonly workers?: number;
  /**
   * Messages per produce request, at most. Default 2 000: with 8 in flight this measured
   * 10-20 % faster here than 4 000 with 4 (`bench:ingest`, README).
   */
  readonly sendSize?: number;
  /**
   * Bytes of one partition's messages per request, at most (the broker refuses a record
   * batch over `message.max.bytes`, 1 MiB by default). Default 900 000.
   */
  readonly maxBatchBytes?: number;
  /** Produce requests in flight per producer thread. Default 8. */
  readonly inFlight?: number;
  /** `-1` (all in-sync replicas, the default) or `1` (the leader). */
  readonly acks?: -1 | 1;
  /** Attempts of a failed request after the first. Default 5. */
  readonly retries?: number;
  /** Per-request acknowledgement timeout, ms. Default 30 000. */
  readonly timeoutMs?: number;
  /** A partial request goes out at most this long after its first event (slow runs). Default 50 ms. */
  readonly lingerMs?: number;
}

/** Where a lane's batches go: a producer thread, or a producer in the sink's own thread. */
interface Transport {
  send(batch: ProduceBatch): void;
  /** Resolves once the producer has closed its connections. */
  close(): Promise<void>;
}

/** One producer and the events waiting for it. */
interface Lane {
  readonly transport: Transport;
  pending: SinkEvent[];
  /** Bytes pending per partition of this lane (indexed by partition). */
  readonly bytes: Float64Array;
  inFlight: number;
  exited: boolean;
}

/** Young generation of a producer thread, MiB: room for the requests in flight, so few survive a scavenge. */
const workerYoungGenerationMb = 64;

/**
 * Writes events straight to Kafka (the fast path) through `@platformatic/kafka` producers
 * ({@link BatchProducer}) in worker threads, or one in this thread (`workers: 0`): the
 * generator's pre-serialized JSON with `received_at` (wall clock when the batch leaves the
 * sink) appended, one buffer per request handed to the producer without copying, large
 * requests across partitions, at most `inFlight` of them in flight per thread, acks from all
 * in-sync replicas, no compression, no idempotence. Every partition receives its events once and
 * in the order written, unless a failed request is retried while others are in flight: then its
 * events may land after later ones of their partition (never with `inFlight: 1`), and those of
 * its partitions that had been written are written again (each failed attempt is counted in
 * `errors`).
 */
export class KafkaSink implements EventSink {
  readonly stats: SinkStats = emptySinkStats();
  private readonly lanes: Lane[] = [];
  private readonly sendSize: number;
  private readonly maxBatchBytes: number;
  private readonly maxInFlight: number;
  private readonly suffixLength = ',"received_at":0000000000000}'.length;
  private readonly batches = new Map<number, { count: number; lane: Lane }>();
  private nextId = 0;
  private queued = 0;
  private readonly highWater: number;
  private drainWaiters: (() => void)[] = [];
  private lingerTimer: NodeJS.Timeout | undefined;
  private readonly laneCount: number;
  private readonly inProcess: boolean;

  constructor(private readonly options: KafkaSinkOptions) {
    this.inProcess = options.workers === 0;
    this.laneCount = this.inProcess ? 1 : Math.max(1, Math.min(options.workers ?? Math.min(2, availableParallelism()), options.partitions));
    this.sendSize = options.sendSize ?? 2_000;
    this.maxBatchBytes = options.maxBatchBytes ?? 900_000;
    this.maxInFlight = Math.max(1, options.inFlight ?? 8);
    this.highWater = this.sendSize * this.maxInFlight * this.laneCount * 2;
  }

  /** Starts the producer threads and checks that the topic has the partition count the generator assumed. */
  async connect(): Promise<void> {
    const settings: ProduceWorkerSettings = {
      brokers: this.options.brokers,
      clientId: this.options.clientId ?? 'sigflow-loadgen',
      topic: this.options.topic,
      acks: this.options.acks ?? -1,
      inFlight: this.maxInFlight,
      timeoutMs: this.options.timeoutMs ?? 30_000,
      retries: this.options.retries ?? 5,
      ...(this.options.security ? { security: this.options.security } : {}),
    };
    const ready: Promise<number>[] = [];
    for (let i = 0; i < this.laneCount; i++) ready.push(this.inProcess ? this.openInProcess(settings) : this.openThread(settings));
    let counts: number[];
    try {
      counts = await Promise.all(ready);
    } catch (err) {
      await this.close();
      throw err;
    }
    const count = counts[0] ?? 0;
    if (count !== this.options.partitions) {
      await this.close();
      throw new Error(
        `topic ${this.options.topic} has ${count} partitions but the generator assumed ${this.options.partitions}; ` +
          'partition-local labels (late, out of order) would be wrong',
      );
    }
  }

  async write(events: readonly SinkEvent[]): Promise<void> {
    const lanes = this.lanes;
    const n = lanes.length;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i] as SinkEvent;
      const p = ev.partition;
      const lane = lanes[p % n] as Lane;
      const size = ev.json.length + ev.key.length + this.suffixLength + 24;
      if ((lane.bytes[p] as number) + size > this.maxBatchBytes && lane.pending.length > 0) await this.dispatchWhenFree(lane);
      lane.pending.push(ev);
      lane.bytes[p] = (lane.bytes[p] as number) + size;
      if (lane.pending.length >= this.sendSize) await this.dispatchWhenFree(lane);
    }
    // A lane with every request in flight sends what lingered when one settles (`settle`).
    this.lingerTimer ??= setTimeout(() => {
      this.lingerTimer = undefined;
      for (const lane of this.lanes) if (lane.pending.length > 0 && lane.inFlight < this.maxInFlight) this.dispatch(lane);
    }, this.options.lingerMs ?? 50);
    while (this.queued > this.highWater) await this.drained();
  }

  async flush(): Promise<void> {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    for (const lane of this.lanes) if (lane.pending.length > 0) await this.dispatchWhenFree(lane);
    while (this.batches.size > 0) await this.drained();
  }

  /** Resolves when a request settles. */
  private drained(): Promise<void> {
    return new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Sends the lane's pending events once fewer than `inFlight` of its requests are in flight: so
   * with `inFlight: 1` a request, retries included, settles before the next one leaves, and a
   * retry never lands after later events of its partitions.
   */
  private async dispatchWhenFree(lane: Lane): Promise<void> {
    while (lane.inFlight >= this.maxInFlight && !lane.exited) await this.drained();
    if (lane.pending.length > 0) this.dispatch(lane);
  }

  /** Flushes, then stops the producer threads. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await Promise.all(this.lanes.map((lane) => (lane.exited ? undefined : lane.transport.close())));
      this.lanes.length = 0;
    }
  }

  private newLane(transport: Transport): Lane {
    const lane: Lane = { transport, pending: [], bytes: new Float64Array(this.options.partitions), inFlight: 0, exited: false };
    this.lanes.push(lane);
    return lane;
  }

  /** A producer thread; resolves with the partition count once its producer is ready. */
  private openThread(settings: ProduceWorkerSettings): Promise<number> {
    const worker = new Worker(produceWorkerUrl(), {
      workerData: settings,
      resourceLimits: { maxYoungGenerationSizeMb: workerYoungGenerationMb },
    });
    const lane = this.newLane({
      send: (batch) => worker.postMessage(batch, [batch.data, batch.index]),
      close: async () => {
        const exited = new Promise((resolve) => worker.once('exit', resolve));
        worker.postMessage({ type: 'close' });
        await exited;
      },
    });
    return new Promise<number>((resolve, reject) => {
      worker.on('error', (err) => {
        this.stats.lastError = err.message;
        reject(err);
      });
      worker.on('exit', () => {
        lane.exited = true;
        reject(new Error('Kafka producer thread exited'));
        // Whatever it had not acknowledged is lost.
        for (const [id, batch] of this.batches) if (batch.lane === lane) this.settle(id, false);
      });
      worker.on('message', (report: ProduceWorkerReport) => this.onReport(report, resolve, reject));
    });
  }

  /** A producer in this thread; resolves with the partition count once it is ready. */
  private openInProcess(settings: ProduceWorkerSettings): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const producer = new BatchProducer(settings, (report) => this.onReport(report, resolve, reject));
      this.newLane({ send: (batch) => void producer.send(batch), close: () => producer.close() });
      void producer.start();
    });
  }

  private onReport(report: ProduceWorkerReport, ready: (partitions: number) => void, fail: (err: Error) => void): void {
    if (report.type === 'ready') ready(report.partitions);
    else if (report.type === 'fatal') fail(new Error(`Kafka producer: ${report.message}`));
    else if (report.type === 'attemptFailed') {
      this.stats.errors++;
      this.stats.lastError = report.message;
      if (report.retrying) this.stats.retries++;
    } else this.settle(report.id, report.ok);
  }

  private dispatch(lane: Lane): void {
    const events = lane.pending;
    lane.pending = [];
    lane.bytes.fill(0);
    const id = this.nextId++;
    const batch = encodeBatch(events, id, `,"received_at":${Date.now()}}`);
    this.batches.set(id, { count: events.length, lane });
    this.queued += events.length;
    lane.inFlight++;
    lane.transport.send(batch);
  }

  private settle(id: number, ok: boolean): void {
    const batch = this.batches.get(id);
    if (!batch) return;
    this.batches.delete(id);
    if (ok) this.stats.sent += batch.count;
    else this.stats.failed += batch.count;
    this.queued -= batch.count;
    batch.lane.inFlight--;
    // Events that lingered while every request of the lane was in flight leave now.
    if (this.lingerTimer === undefined && batch.lane.pending.length > 0 && !batch.lane.exited) this.dispatch(batch.lane);
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * The producer thread's module. Under vitest the sink runs from `src/` (TypeScript, which a
 * worker thread cannot load), so the thread runs the built file (`npm run build`).
 */
function produceWorkerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../../dist/sinks/produce-worker.js', here) : new URL('./produce-worker.js', here);
}
