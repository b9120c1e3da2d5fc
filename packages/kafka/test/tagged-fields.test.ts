import { describe, expect, it } from 'vitest';
import { produceV11, Reader } from '@platformatic/kafka';
import { fixTaggedFieldsReader } from '../src/tagged-fields.js';

// Bytes written by hand from the Kafka protocol's definitions (kafka.apache.org/protocol).
const uvarint = (n: number): number[] => {
  const out: number[] = [];
  for (; n > 0x7f; n >>>= 7) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return out;
};
const int16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const int32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const int64 = (n: number): number[] => [...int32(Math.floor(n / 2 ** 32)), ...int32(n >>> 0)];
const compactString = (s: string): number[] => [...uvarint(s.length + 1), ...Buffer.from(s)];
/** One tagged field: tag, size, data. */
const taggedField = (tag: number, data: number[]): number[] => [...uvarint(tag), ...uvarint(data.length), ...data];

/** A partition of a Produce v11 answer, with the tagged fields given (none: count 0). */
function producePartition(index: number, errorCode: number, baseOffset: number, tagged: number[][] = []): number[] {
  return [
    ...int32(index),
    ...int16(errorCode),
    ...int64(baseOffset),
    ...int64(-1), // log_append_time_ms
    ...int64(0), // log_start_offset
    ...uvarint(1), // record_errors: empty compact array
    ...uvarint(0), // error_message: null
    ...uvarint(tagged.length),
    ...tagged.flat(),
  ];
}

describe("@platformatic/kafka's reader with tagged fields", () => {
  fixTaggedFieldsReader();

  it('skips each field by its size and reads on after them', () => {
    // Two fields (tags 0 and 5, 3 and 130 bytes: a two-byte size), then an INT32.
    const bytes = [...uvarint(2), ...taggedField(0, [1, 2, 3]), ...taggedField(5, new Array<number>(130).fill(9)), ...int32(424242)];
    const reader = Reader.from(Buffer.from(bytes));
    reader.readTaggedFields();
    expect(reader.readInt32()).toBe(424242);
    expect(reader.position).toBe(bytes.length);
  });

  it("reads a Produce answer whose partition refused as not leader and names the current leader (KIP-951), and the other partition's offset", () => {
    const currentLeader = taggedField(0, [...int32(1), ...int32(7), ...uvarint(0)]); // leader_id, leader_epoch, no tags
    const bytes = [
      ...uvarint(2), // responses: one topic
      ...compactString('events.v1'),
      ...uvarint(3), // partition_responses: two
      ...producePartition(3, 6, -1, [currentLeader]), // 6 = NOT_LEADER_OR_FOLLOWER
      ...producePartition(0, 0, 1234),
      ...uvarint(0), // the topic's tagged fields
      ...int32(0), // throttle_time_ms
      ...uvarint(0), // the answer's tagged fields
    ];
    let thrown: unknown;
    try {
      produceV11.parseResponse(1, 0, 11, Reader.from(Buffer.from(bytes)));
    } catch (err) {
      thrown = err;
    }
    const error = thrown as { code?: string; errors?: { apiId?: string; path?: string }[]; response?: produceV11.ProduceResponse };
    expect(error.code).toBe('PLT_KFK_RESPONSE');
    expect(error.errors?.map((e) => [e.apiId, e.path])).toEqual([['NOT_LEADER_OR_FOLLOWER', '/responses/0/partition_responses/0']]);
    const partitions = error.response?.responses[0]?.partitionResponses;
    expect(partitions?.map((p) => [p.index, p.errorCode, p.baseOffset])).toEqual([
      [3, 6, -1n],
      [0, 0, 1234n],
    ]);
  });
});
