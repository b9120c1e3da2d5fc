import type { EventStream, StreamStats } from './generate-events.js';
import type { SinkEvent } from './sinks/event-sink.js';
import type { TruthRecorder } from './truth.js';

/** Per event: its chunk, where its key starts in it, the key's and the JSON's lengths, its partition. */
interface EventIndex {
  readonly chunkOf: Uint32Array;
  readonly starts: Uint32Array;
  readonly keyLengths: Uint32Array;
  readonly jsonLengths: Uint32Array;
  readonly partitions: Uint16Array;
}

/** Characters of one chunk (the events' keys and JSON back to back), by default. */
const defaultChunkChars = 8 * 1024 * 1024;

/**
 * A whole stream generated ahead of its run and kept as what a sink needs (key, partition,
 * JSON): a paced run over it costs only the sending, so a benchmark of a consumer on the same
 * machine does not share the cores with the generation (about 5 µs of CPU an event here).
 *
 * The events are held as a few large strings (each event's key and JSON back to back) and
 * typed arrays of offsets, not as an object and two strings per event: a heap of millions of
 * small objects made every full garbage collection of the sending process mark all of them
 * (measured at 70,000 events/s, sending in the main thread: 9 collections of 250-300 ms in
 * 15 s). Each event handed out is a slice of its chunk.
 * The truth, if asked, is recorded while generating: the same events in the same order.
 */
export class PregeneratedEvents implements Iterator<SinkEvent> {
  private at = 0;

  private constructor(
    private readonly chunks: readonly string[],
    private readonly index: EventIndex,
    /** The stream's statistics once it was generated whole. */
    readonly stats: StreamStats,
    /** CPU seconds (user + system) the generation took. */
    readonly cpuSeconds: number,
  ) {}

  /** Generates the whole stream now (`chunkChars`: the most characters one string holds). */
  static from(stream: EventStream, truth?: TruthRecorder, chunkChars = defaultChunkChars): PregeneratedEvents {
    const cpu = process.cpuUsage();
    const n = stream.options.events;
    const index: EventIndex = { chunkOf: new Uint32Array(n), starts: new Uint32Array(n), keyLengths: new Uint32Array(n), jsonLengths: new Uint32Array(n), partitions: new Uint16Array(n) };
    const chunks: string[] = [];
    let parts: string[] = [];
    let chars = 0;
    let i = 0;
    for (const e of stream) {
      if (i === n) throw new RangeError(`the stream yielded more than its ${n} events`);
      truth?.record(e);
      if (chars + e.key.length + e.json.length > chunkChars && parts.length > 0) {
        chunks.push(parts.join(''));
        parts = [];
        chars = 0;
      }
      index.chunkOf[i] = chunks.length;
      index.starts[i] = chars;
      index.keyLengths[i] = e.key.length;
      index.jsonLengths[i] = e.json.length;
      index.partitions[i] = e.partition;
      parts.push(e.key, e.json);
      chars += e.key.length + e.json.length;
      i++;
    }
    if (parts.length > 0) chunks.push(parts.join(''));
    const used = process.cpuUsage(cpu);
    const stats = { ...stream.stats, journeys: { ...stream.stats.journeys } };
    const generated: EventIndex = {
      chunkOf: index.chunkOf.subarray(0, i),
      starts: index.starts.subarray(0, i),
      keyLengths: index.keyLengths.subarray(0, i),
      jsonLengths: index.jsonLengths.subarray(0, i),
      partitions: index.partitions.subarray(0, i),
    };
    return new PregeneratedEvents(chunks, generated, stats, (used.user + used.system) / 1e6);
  }

  get length(): number {
    return this.index.starts.length;
  }

  next(): IteratorResult<SinkEvent> {
    const i = this.at;
    const { chunkOf, starts, keyLengths, jsonLengths, partitions } = this.index;
    if (i >= starts.length) return { done: true, value: undefined };
    this.at++;
    const chunk = this.chunks[chunkOf[i] as number] as string;
    const start = starts[i] as number;
    const keyEnd = start + (keyLengths[i] as number);
    return {
      done: false,
      value: { key: chunk.slice(start, keyEnd), json: chunk.slice(keyEnd, keyEnd + (jsonLengths[i] as number)), partition: partitions[i] as number },
    };
  }
}
