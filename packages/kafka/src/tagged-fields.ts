import { Reader } from '@platformatic/kafka';

/**
 * Reads a flexible version's tagged fields as the Kafka protocol lays them out: an unsigned
 * varint count, then per field an unsigned varint tag, an unsigned varint size and that many
 * bytes. None of them is used by this project, so all are skipped.
 *
 * `@platformatic/kafka` 1.x reads one zigzag varint as the byte length of the whole section
 * and skips that many bytes. That is right only when there are no tagged fields (count 0),
 * which is the usual answer; a broker adds them to some answers during a leader change
 * (KIP-951: the current leader in a Produce or Fetch partition's NOT_LEADER_OR_FOLLOWER), and
 * the 1.x reader then misreads everything after, failing with OUT_OF_BOUNDS or mis-attributing
 * fields. 2.x reads them like this; it needs Node 22, and this project runs on Node 20.
 */
function skipTaggedFields(this: Reader): void {
  const count = this.readUnsignedVarInt();
  for (let i = 0; i < count; i++) {
    this.readUnsignedVarInt();
    this.skip(this.readUnsignedVarInt());
  }
}

/**
 * Makes `@platformatic/kafka`'s protocol reader skip tagged fields correctly (see
 * {@link skipTaggedFields}), once per thread; every module creating a client of that library
 * imports this one first.
 */
export function fixTaggedFieldsReader(): void {
  const prototype = Reader.prototype as { readTaggedFields(this: Reader): void };
  if (prototype.readTaggedFields !== skipTaggedFields) prototype.readTaggedFields = skipTaggedFields;
}

fixTaggedFieldsReader();
