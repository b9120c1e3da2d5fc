// What `packages/kafka/src/contiguous-responses.ts` saves, alone: parsing fetch answers of the
// speed layer's size (4 partitions of 1 MiB) and the archiver's (4 of 4 MiB) the way
// `@platformatic/kafka` 1.35.0 parses them (a `Reader` over a `subarray` of the connection's
// chunk list, 64 KiB chunks as loopback hands them over, `readRecordsBatch` per batch), with
// the library's own `subarray` and with the patch, in interleaved rounds. The records are the
// collector's: batches of 500 events of about 250 bytes keyed by user.
// `node bench/contiguous-responses.mjs` (after the build); prints a JSON line per answer size.
import { DynamicBuffer } from '@platformatic/dynamic-buffer';
import { createRecordsBatch, readRecordsBatch, Reader } from '@platformatic/kafka';
import os from 'node:os';
import { chunkedSubarray } from '../packages/kafka/dist/contiguous-responses.js';

const CHUNK = 64 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const contiguousSubarray = DynamicBuffer.prototype.subarray;
if (contiguousSubarray === chunkedSubarray) throw new Error('the patch is not installed');

/** Record batches of 500 events each, `bytes` of them at least, as one buffer. */
function batches(bytes) {
  const parts = [];
  let total = 0;
  for (let b = 0; total < bytes; b++) {
    const messages = Array.from({ length: 500 }, (_, i) => {
      const user = `user-${(b * 500 + i) % 50_000}`;
      const value = JSON.stringify({ event_id: `ev-${b}-${i}`, type: 'page_view', user_id: user, ts: 1_700_000_000_000 + i, page_id: `page-${i % 40}`, user_agent: 'Mozilla/5.0 (X11; Linux x86_64)', received_at: 1_700_000_000_100 + i });
      return { key: Buffer.from(user), value: Buffer.from(value), topic: 'events.v1', timestamp: 1_700_000_000_000n + BigInt(i) };
    });
    const batch = createRecordsBatch(messages).buffer;
    parts.push(batch);
    total += batch.length;
  }
  return Buffer.concat(parts);
}

/** CPU microseconds per record to parse `answer`'s batches from its 64 KiB chunks with `subarray`. */
function parse(answer, subarray) {
  DynamicBuffer.prototype.subarray = subarray;
  const chunks = [];
  for (let at = 0; at < answer.length; at += CHUNK) chunks.push(answer.subarray(at, at + CHUNK));
  const started = process.cpuUsage();
  const reader = new Reader(new DynamicBuffer(chunks).subarray(0));
  let records = 0;
  while (reader.remaining > 0) records += readRecordsBatch(reader).records.length;
  const used = process.cpuUsage(started);
  return { records, micros: (used.user + used.system) / records };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x) => Math.round(x * 1000) / 1000;

for (const [name, bytes] of [
  ['speed layer fetch (4 x 1 MiB)', 4 * 1_048_576],
  ['archiver fetch (4 x 4 MiB)', 16 * 1_048_576],
]) {
  const answer = batches(bytes);
  parse(answer, chunkedSubarray); // warm-up, both paths
  parse(answer, contiguousSubarray);
  const chunked = [];
  const contiguous = [];
  for (let i = 0; i < ROUNDS; i++) {
    chunked.push(parse(answer, chunkedSubarray).micros);
    contiguous.push(parse(answer, contiguousSubarray).micros);
  }
  const { records } = parse(answer, contiguousSubarray);
  console.log(
    JSON.stringify({
      answer: name,
      bytes: answer.length,
      chunks: Math.ceil(answer.length / CHUNK),
      records,
      libraryMicrosPerRecord: round(median(chunked)),
      patchedMicrosPerRecord: round(median(contiguous)),
      rounds: ROUNDS,
      loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    }),
  );
}
DynamicBuffer.prototype.subarray = contiguousSubarray;
