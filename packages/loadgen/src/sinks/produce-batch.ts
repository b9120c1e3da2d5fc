import type { SinkEvent } from './event-sink.js';
import { indexStride, type ProduceBatch } from './produce-protocol.js';

/**
 * Writes a batch of events into one buffer for a producer thread: per event its key (the
 * user id), then its JSON with `suffix` in place of the closing brace (`suffix` ends with
 * one), and an index of offsets and partitions. The buffer is sized for ASCII and grows
 * when a string needs more room.
 */
export function encodeBatch(events: readonly SinkEvent[], id: number, suffix: string): ProduceBatch {
  let capacity = 0;
  for (let i = 0; i < events.length; i++) {
    const ev = events[i] as SinkEvent;
    capacity += ev.key.length + ev.json.length + suffix.length;
  }
  let data: Buffer = Buffer.allocUnsafeSlow(capacity + 64);
  const index = new Int32Array(events.length * indexStride);
  let offset = 0;
  for (let i = 0, j = 0; i < events.length; i++, j += indexStride) {
    const ev = events[i] as SinkEvent;
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const worst = 3 * (ev.key.length + ev.json.length) + suffix.length;
    if (data.length - offset < worst) data = grow(data, offset, worst);
    index[j] = offset;
    offset += data.write(ev.key, offset);
    index[j + 1] = offset;
    offset += data.write(ev.json, offset) - 1;
    offset += data.write(suffix, offset, 'latin1');
    index[j + 2] = offset;
    index[j + 3] = ev.partition;
  }
  return { type: 'batch', id, data: data.buffer as ArrayBuffer, index: index.buffer, count: events.length };
}

/** A larger buffer (its own memory, transferable) with the first `used` bytes copied. */
function grow(data: Buffer, used: number, needed: number): Buffer {
  const larger = Buffer.allocUnsafeSlow(Math.max(2 * data.length, used + needed));
  data.copy(larger, 0, 0, used);
  return larger;
}
