// Traffic for the fault scenarios: the generator with a fixed seed, straight to Kafka or
// through the collector, remembering which event ids went out (the archive check needs them).
import { EventStream, HttpSink, runGenerator, type EventSink, type KafkaSinkOptions, type GeneratorOptions, type RunStats, type SinkEvent, type SinkStats, type TruthFile } from '@sigflow/loadgen';
import type { Scenario } from '../../../support/scenario.js';

const HOUR = 3_600_000;

/** Event time of the Kafka-direct runs (fixed: the same seed gives the same stream). */
export const FAULT_START = Date.UTC(2026, 10, 20, 8, 0, 0);

/**
 * In-order traffic with the hard cases on (duplicates, bots, floods, orphans, too-fast clicks),
 * no late events: after any fault the speed views must equal the truth exactly. Botnets have
 * one user, so their IP floods stay in one partition: across partitions the speed layer judges
 * an IP's clicks exactly up to arrival order (DESIGN.md), which a fault (a restart, an outage,
 * clients re-sending through the collector) reorders; these scenarios are about losing and
 * double-counting nothing. Cross-partition IP floods are checked in-order in speed-truth.
 */
export function faultTraffic(seed: number, events: number, overrides: GeneratorOptions = {}): GeneratorOptions {
  return {
    botnetUsers: 1,
    seed,
    events,
    start: FAULT_START,
    span: 2 * HOUR,
    partitions: 4,
    duplicates: 0.02,
    bots: 0.02,
    floods: 0.01,
    orphans: 0.01,
    tooFast: 0.01,
    ...overrides,
  };
}

/**
 * The start of traffic sent through the collector: it rejects events older than the retention
 * or in the future, so the stream lies in the last hours (whole hours: runs of one seed within
 * the same hour are identical).
 */
export function recentStart(spanMs = 2 * HOUR): number {
  return Math.floor(Date.now() / HOUR) * HOUR - spanMs - HOUR;
}

/** Copies per event id that a sink handed on (duplicates the generator injects included). */
export type SentIds = Map<string, number>;

const idPattern = /"event_id":"([^"]+)"/;

/**
 * Passes events on to `inner` and counts the event ids it was given (unless `recording` is false:
 * a Map holds at most 2^24 entries, fewer than a 30-minute soak sends).
 */
export class RecordingSink implements EventSink {
  readonly ids: SentIds = new Map();
  constructor(
    private readonly inner: EventSink,
    private readonly recording = true,
  ) {}
  get stats() {
    return this.inner.stats;
  }
  write(events: readonly SinkEvent[]): Promise<void> {
    if (this.recording) this.record(events);
    return this.inner.write(events);
  }
  private record(events: readonly SinkEvent[]): void {
    for (const e of events) {
      const id = idPattern.exec(e.json)?.[1];
      if (id) this.ids.set(id, (this.ids.get(id) ?? 0) + 1);
    }
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface Sent {
  readonly truth: TruthFile;
  readonly ids: SentIds;
  readonly stats: RunStats;
}

async function run(sink: RecordingSink, scenario: Scenario, options: GeneratorOptions, rate: number): Promise<Sent> {
  const stream = new EventStream({ ...options, rules: scenario.config.rules });
  const stats = await runGenerator({ stream, sink, rate, truth: true });
  if (stats.failed > 0) throw new Error(`the generator gave up on ${stats.failed} events: ${stats.lastError}`);
  return { truth: stats.truth!.toJSON(), ids: sink.ids, stats };
}

/**
 * Sends a stream straight to the scenario's events topic at `rate` events/s (0 = at once).
 * `producer` tunes the sink's producer: a broker fault wants one request in flight (a retried request
 * cannot then overtake a later one) and more retries.
 */
export async function sendToKafka(scenario: Scenario, options: GeneratorOptions, rate = 0, producer: Partial<KafkaSinkOptions> = {}): Promise<Sent> {
  const kafkaSink = scenario.kafkaSink(producer);
  await kafkaSink.connect();
  const sink = new RecordingSink(kafkaSink);
  try {
    return await run(sink, scenario, options, rate);
  } finally {
    await kafkaSink.close();
  }
}

/**
 * Several sinks as one: partition p's events go to sink p mod n, so each partition's events
 * keep their order while n requests are in flight. Its stats are the sinks' summed.
 */
class PartitionSplitSink implements EventSink {
  constructor(private readonly sinks: readonly EventSink[]) {}
  get stats(): SinkStats {
    const all = this.sinks.map((s) => s.stats);
    const sum = (field: 'sent' | 'failed' | 'rejected' | 'errors' | 'retries') => all.reduce((a, s) => a + s[field], 0);
    const rejectReasons: Record<string, number> = {};
    for (const s of all) for (const [reason, n] of Object.entries(s.rejectReasons)) rejectReasons[reason] = (rejectReasons[reason] ?? 0) + n;
    const lastError = all.map((s) => s.lastError).find((e) => e !== undefined);
    return { sent: sum('sent'), failed: sum('failed'), rejected: sum('rejected'), errors: sum('errors'), retries: sum('retries'), rejectReasons, ...(lastError ? { lastError } : {}) };
  }
  async write(events: readonly SinkEvent[]): Promise<void> {
    const parts = this.sinks.map((): SinkEvent[] => []);
    for (const e of events) parts[e.partition % parts.length]!.push(e);
    await Promise.all(parts.map((part, i) => (part.length > 0 ? this.sinks[i]!.write(part) : undefined)));
  }
  async flush(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.flush()));
  }
  async close(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.close()));
  }
}

/** How {@link sendThroughCollector} sends. */
export interface CollectorClients {
  /** Events a request (default 200). */
  readonly batchSize?: number;
  /** Clients sharing the partitions, partition p to client p mod clients (default 1). */
  readonly clients?: number;
  /** Whether the ids sent are kept (`Sent.ids`; default true). */
  readonly recordIds?: boolean;
}

/**
 * Sends a stream through a collector (HttpSink: one request in flight per client, retries 503
 * and connection errors), so the events keep their order per partition.
 */
export async function sendThroughCollector(scenario: Scenario, url: string, options: GeneratorOptions, rate: number, { batchSize = 200, clients = 1, recordIds = true }: CollectorClients = {}): Promise<Sent> {
  const client = () => new HttpSink({ url, batchSize, maxRetries: 60, timeoutMs: 15_000, lingerMs: 50 });
  const sink = new RecordingSink(clients === 1 ? client() : new PartitionSplitSink(Array.from({ length: clients }, client)), recordIds);
  try {
    return await run(sink, scenario, options, rate);
  } finally {
    await sink.close();
  }
}
