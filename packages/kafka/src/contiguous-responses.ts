import { DynamicBuffer } from '@platformatic/dynamic-buffer';

/**
 * Makes `@platformatic/kafka` parse each broker answer from one contiguous buffer.
 *
 * A connection collects an answer's socket chunks (64 KiB each on loopback) in a
 * `DynamicBuffer` and parses it through `subarray` views of it. Every read of such a view
 * (a varint, an int8, a record's bytes) first walks the chunk list from its start to find the
 * chunk holding the position, so parsing an answer of n chunks costs n/2 steps per field: a
 * 16 MiB fetch (the archiver's 4 partitions of 4 MiB) is 256 chunks, and its record reads were
 * a quarter of the archiver's main thread (`readVarInt`, `readVarInt64`, `slice` in a CPU
 * profile of `bench:batch`'s archiver). A view that spans several chunks is copied into one
 * buffer instead (one `memcpy` of the answer), after which every read finds its chunk at once;
 * an answer of one chunk (most answers that are not fetches) is left as it is.
 */
function contiguousSubarray(this: DynamicBuffer, start?: number, end?: number): DynamicBuffer {
  const view = chunkedSubarray.call(this, start, end);
  return view.buffers.length > 1 ? new DynamicBuffer(Buffer.concat(view.buffers, view.length)) : view;
}

/** Marks the method this module installs with the library's own, whichever copy of the module installed it. */
const LIBRARY_SUBARRAY = Symbol.for('sigflow.kafka.libraryDynamicBufferSubarray');
type Subarray = typeof DynamicBuffer.prototype.subarray & { [LIBRARY_SUBARRAY]?: typeof DynamicBuffer.prototype.subarray };

/**
 * The library's own `subarray` (`@platformatic/dynamic-buffer` 0.3.1, under `@platformatic/kafka`
 * 1.35.0: both pinned in package.json, as measured), also when another copy of this module (the
 * built one beside the sources in a test run, say) installed its method first.
 * `contiguous-responses.test.ts` fails when either version, this method's source or the call that
 * parses each answer through it changes: then measure again (README, "Choices that differ")
 * before moving the pins.
 */
export const chunkedSubarray = (DynamicBuffer.prototype.subarray as Subarray)[LIBRARY_SUBARRAY] ?? DynamicBuffer.prototype.subarray;
(contiguousSubarray as Subarray)[LIBRARY_SUBARRAY] = chunkedSubarray;

/** Installs {@link contiguousSubarray}, once per thread (not over another copy's); the data path's clients import this module first. */
export function readResponsesContiguously(): void {
  if ((DynamicBuffer.prototype.subarray as Subarray)[LIBRARY_SUBARRAY] === undefined) DynamicBuffer.prototype.subarray = contiguousSubarray;
}

readResponsesContiguously();
