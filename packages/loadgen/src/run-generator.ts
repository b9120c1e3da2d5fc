import { EventStream, type GeneratorOptions, type StreamStats } from './generate-events.js';
import type { PregeneratedEvents } from './pregenerated-events.js';
import type { EventSink, SinkEvent, SinkStats } from './sinks/event-sink.js';
import { TruthRecorder } from './truth.js';

/** A progress report (about once a second). */
export interface Progress {
  readonly elapsedMs: number;
  /** Events generated and handed to the sink. */
  readonly generated: number;
  /** Events the sink had acknowledged. */
  readonly sent: number;
  /** Acknowledged events per second over the last interval (the last report: over the run). */
  readonly rate: number;
  readonly errors: number;
  readonly rejected: number;
  readonly failed: number;
}

export interface RunGeneratorOptions {
  /** What to generate (or pass a ready `stream`). */
  readonly options?: GeneratorOptions;
  /** The events: generated as the run goes, or ahead of it ({@link PregeneratedEvents}). */
  readonly stream?: EventStream | PregeneratedEvents;
  readonly sink: EventSink;
  /** Events per second of wall clock; 0 (the default) = as fast as the sink takes them. */
  readonly rate?: number;
  /** Events handed to the sink per write. Default 1 000 (fewer when pacing a low rate). */
  readonly batchSize?: number;
  /**
   * Also record the truth (pass a recorder, or `true` for a new one). Pregenerated events had
   * theirs recorded when generated: a recorder passed with them is returned as it is.
   */
  readonly truth?: TruthRecorder | boolean;
  readonly onProgress?: (progress: Progress) => void;
  readonly progressIntervalMs?: number;
  /** Stops the run early (the events generated so far are flushed). */
  readonly signal?: AbortSignal;
}

/** What a run did. */
export interface RunStats extends SinkStats {
  /** Events generated and handed to the sink. */
  readonly generated: number;
  readonly durationMs: number;
  /** Acknowledged events per second of wall clock. */
  readonly eventsPerSecond: number;
  readonly stream: StreamStats;
  readonly truth: TruthRecorder | undefined;
}

/** The stream's next event, recorded in the truth first. */
function recording(stream: EventStream, truth: TruthRecorder | undefined): () => IteratorResult<SinkEvent> {
  return () => {
    const next = stream.next();
    if (!next.done) truth?.record(next.value);
    return next;
  };
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Generates events and writes them to a sink, paced to `rate` events per wall-clock second
 * (or as fast as possible), reporting progress; flushes the sink (it does not close it)
 * and returns what happened.
 */
export async function runGenerator(run: RunGeneratorOptions): Promise<RunStats> {
  const stream = run.stream ?? new EventStream(run.options);
  const sink = run.sink;
  const rate = run.rate ?? 0;
  if (!(rate >= 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be >= 0 (got ${rate})`);
  const generating = stream instanceof EventStream;
  if (run.truth === true && !generating) throw new RangeError('pregenerated events had their truth recorded when generated');
  const truth = run.truth === true ? new TruthRecorder(stream as EventStream) : run.truth || undefined;
  const take = generating ? recording(stream, truth) : () => stream.next();
  const batchSize = Math.max(1, run.batchSize ?? (rate > 0 ? Math.min(1_000, Math.ceil(rate / 100)) : 1_000));
  const started = performance.now();
  let generated = 0;
  let lastSent = 0;
  let lastReport = started;
  const report = (final = false) => {
    const now = performance.now();
    const s = sink.stats;
    run.onProgress?.({
      elapsedMs: now - started,
      generated,
      sent: s.sent,
      // The last report gives the rate over the whole run.
      rate: final ? (s.sent * 1000) / Math.max(1, now - started) : ((s.sent - lastSent) * 1000) / Math.max(1, now - lastReport),
      errors: s.errors,
      rejected: s.rejected,
      failed: s.failed,
    });
    lastSent = s.sent;
    lastReport = now;
  };
  const timer = run.onProgress ? setInterval(() => report(), run.progressIntervalMs ?? 1_000) : undefined;
  try {
    let lastYield = started;
    let done = false;
    while (!done && !run.signal?.aborted) {
      const batch: SinkEvent[] = [];
      while (batch.length < batchSize) {
        const next = take();
        if (next.done) {
          done = true;
          break;
        }
        batch.push(next.value);
      }
      if (batch.length === 0) break;
      generated += batch.length;
      if (rate > 0) {
        const due = started + (generated / rate) * 1000 - performance.now();
        if (due > 1) await new Promise((resolve) => setTimeout(resolve, due));
      }
      await sink.write(batch);
      const now = performance.now();
      if (now - lastYield > 20) {
        // Let sockets, timers and the sink's callbacks run during a CPU-bound run.
        await yieldToEventLoop();
        lastYield = now;
      }
    }
    await sink.flush();
  } finally {
    if (timer) clearInterval(timer);
  }
  if (run.onProgress) report(true);
  const durationMs = performance.now() - started;
  const s = sink.stats;
  return {
    ...s,
    rejectReasons: { ...s.rejectReasons },
    generated,
    durationMs,
    eventsPerSecond: (s.sent * 1000) / Math.max(1, durationMs),
    stream: { ...stream.stats, journeys: { ...stream.stats.journeys } },
    truth,
  };
}
