import { emptySinkStats, type EventSink, type SinkEvent, type SinkStats } from './event-sink.js';

/** Accepts and drops everything: measures the generator alone (`--sink none`). */
export class NullSink implements EventSink {
  readonly stats: SinkStats = emptySinkStats();
  /** Serialized bytes seen (so the JSON is really produced and read). */
  bytes = 0;

  async write(events: readonly SinkEvent[]): Promise<void> {
    for (const ev of events) this.bytes += ev.json.length;
    this.stats.sent += events.length;
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
