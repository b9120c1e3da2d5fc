import type { EventStream, StreamStats } from './generate-events.js';
import type { SinkEvent } from './sinks/event-sink.js';
import type { TruthRecorder } from './truth.js';

/**
 * A whole stream generated ahead of its run and kept as what a sink needs (key, partition,
 * JSON): a paced run over it costs only the sending, so a benchmark of a consumer on the same
 * machine does not share the cores with the generation (about 5 µs of CPU an event here).
 * The truth, if asked, is recorded while generating: the same events in the same order.
 */
export class PregeneratedEvents implements Iterator<SinkEvent> {
  private at = 0;

  private constructor(
    private readonly events: readonly SinkEvent[],
    /** The stream's statistics once it was generated whole. */
    readonly stats: StreamStats,
    /** CPU seconds (user + system) the generation took. */
    readonly cpuSeconds: number,
  ) {}

  /** Generates the whole stream now. */
  static from(stream: EventStream, truth?: TruthRecorder): PregeneratedEvents {
    const cpu = process.cpuUsage();
    const events: SinkEvent[] = [];
    for (const e of stream) {
      truth?.record(e);
      events.push({ key: e.key, partition: e.partition, json: e.json });
    }
    const used = process.cpuUsage(cpu);
    return new PregeneratedEvents(events, { ...stream.stats, journeys: { ...stream.stats.journeys } }, (used.user + used.system) / 1e6);
  }

  get length(): number {
    return this.events.length;
  }

  next(): IteratorResult<SinkEvent> {
    if (this.at >= this.events.length) return { done: true, value: undefined };
    return { done: false, value: this.events[this.at++] as SinkEvent };
  }
}
