import { describe, expect, it } from 'vitest';
import { generateEvents } from '../src/generate-events.js';
import { EventStream } from '../src/generate-events.js';
import { PregeneratedEvents } from '../src/pregenerated-events.js';
import { runGenerator, type Progress } from '../src/run-generator.js';
import type { EventSink, SinkEvent } from '../src/sinks/event-sink.js';
import { NullSink } from '../src/sinks/null-sink.js';
import { TruthRecorder } from '../src/truth.js';
import { HOUR, allKnobs, collect, rules, start } from './helpers.js';

class RecordingSink extends NullSink implements EventSink {
  readonly seen: SinkEvent[] = [];
  override async write(events: readonly SinkEvent[]): Promise<void> {
    this.seen.push(...events);
    await super.write(events);
  }
}

describe('runGenerator', () => {
  const options = { seed: 71, events: 20_000, start, rules, partitions: 4, span: 4 * HOUR, ...allKnobs };

  it('hands the whole stream to the sink in order and records the same truth', async () => {
    const sink = new RecordingSink();
    const stats = await runGenerator({ options, sink, truth: true });
    const expected = collect(options);
    expect(sink.seen.map((e) => e.json)).toEqual(expected.map((e) => e.json));
    expect(stats).toMatchObject({ generated: 20_000, sent: 20_000, failed: 0 });
    const reference = new TruthRecorder(generateEvents(options));
    for (const ev of expected) reference.record(ev);
    expect(stats.truth!.toJSON().totals).toEqual(reference.totals());
    expect(stats.stream.emitted).toBe(20_000);
  });

  describe('when the events are generated ahead (--pregenerate)', () => {
    it('sends the same events in the same order, with the same truth recorded while generating', async () => {
      const sink = new RecordingSink();
      const truth = new TruthRecorder(generateEvents(options));
      // Chunks of 10,000 characters: about 25 events each, so hundreds of chunk boundaries.
      const pregenerated = PregeneratedEvents.from(new EventStream(options), truth, 10_000);
      expect(pregenerated.length).toBe(20_000);
      const stats = await runGenerator({ stream: pregenerated, sink, truth });
      const expected = collect(options);
      expect(sink.seen.map((e) => [e.key, e.partition, e.json])).toEqual(expected.map((e) => [e.key, e.partition, e.json]));
      expect(stats).toMatchObject({ generated: 20_000, sent: 20_000, failed: 0 });
      const reference = new TruthRecorder(generateEvents(options));
      for (const ev of expected) reference.record(ev);
      expect(stats.truth!.toJSON().totals).toEqual(reference.totals());
      expect(stats.stream.emitted).toBe(20_000);
      expect(pregenerated.cpuSeconds).toBeGreaterThan(0);
    });

    it('refuses to record a new truth (it was recorded when generating)', async () => {
      const pregenerated = PregeneratedEvents.from(new EventStream({ ...options, events: 10 }));
      await expect(runGenerator({ stream: pregenerated, sink: new NullSink(), truth: true })).rejects.toThrow(/recorded when generated/);
    });
  });

  it('paces to the wall-clock rate and reports progress', async () => {
    const progress: Progress[] = [];
    const began = performance.now();
    const stats = await runGenerator({
      options: { ...options, events: 3_000 },
      sink: new NullSink(),
      rate: 5_000,
      onProgress: (p) => progress.push(p),
      progressIntervalMs: 100,
    });
    const took = performance.now() - began;
    expect(stats.sent).toBe(3_000);
    // Paced: 3,000 events at 5,000/s cannot take less than ~0.6 s. The upper bound only catches
    // a hang: a loaded 2-core machine can stretch the run a lot (throughput is a benchmark's job).
    expect(took).toBeGreaterThan(550);
    expect(took).toBeLessThan(30_000);
    expect(progress.length).toBeGreaterThanOrEqual(4);
    expect(progress.at(-1)).toMatchObject({ sent: 3_000, generated: 3_000, errors: 0 });
  });

  it('stops early when aborted', async () => {
    // Aborted once 1,000 events were sent (not after a wall-clock delay, which a loaded machine
    // stretches): it must stop long before the 1,000,000 it was asked for (100 s at this rate).
    const abort = new AbortController();
    const onProgress = (p: Progress) => {
      if (p.sent >= 1_000) abort.abort();
    };
    const stats = await runGenerator({ options: { ...options, events: 1_000_000 }, sink: new NullSink(), rate: 10_000, signal: abort.signal, onProgress, progressIntervalMs: 20 });
    expect(abort.signal.aborted).toBe(true);
    expect(stats.generated).toBeGreaterThanOrEqual(1_000);
    expect(stats.generated).toBeLessThan(500_000);
    expect(stats.sent).toBe(stats.generated);
  });
});
