import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MalformedBodyError, describeJsonError } from '../ingest/event-body.js';

/** Segment's limits (its HTTP tracking API answers 400 past them). */
export const segmentLimits = Object.freeze({
  /** One call, or one message of a batch, serialized. */
  maxMessageBytes: 32 * 1024,
  /** One request (after decompression). */
  maxRequestBytes: 500 * 1024,
});

/** A Segment request body as parsed: the JSON value and its size in bytes (decompressed). */
export interface SegmentBody {
  readonly value: unknown;
  readonly bytes: number;
}

/** Parses a Segment body (JSON whatever the content-type: analytics.js sends text/plain). */
export function parseSegmentBody(text: string): SegmentBody {
  try {
    return { value: JSON.parse(text), bytes: Buffer.byteLength(text) };
  } catch (cause) {
    throw new MalformedBodyError(`malformed JSON: ${describeJsonError(cause, text)}`, { cause });
  }
}

class UnsupportedEncodingError extends Error {
  readonly statusCode = 415;
}

/**
 * A `preParsing` step: a gzip body is decompressed as it arrives (the route's body limit then
 * counts decompressed bytes: no zip bomb gets past it); other encodings are refused with 415.
 */
export async function decompressSegmentBody(request: FastifyRequest, _reply: FastifyReply, payload: Readable): Promise<Readable> {
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  if (encoding === undefined || encoding === '' || encoding === 'identity') return payload;
  if (encoding !== 'gzip') throw new UnsupportedEncodingError(`content-encoding ${JSON.stringify(encoding).slice(0, 40)} is not supported: send gzip or none`);
  const gunzip = createGunzip();
  let encodedBytes = 0;
  // fastify compares content-length with what came over the wire, not with what it decompressed to.
  payload.on('data', (chunk: Buffer) => {
    encodedBytes += chunk.length;
    Object.assign(gunzip, { receivedEncodedLength: encodedBytes });
  });
  payload.on('error', (err) => gunzip.destroy(err));
  gunzip.on('error', (err) => Object.assign(err, { statusCode: 400, message: `gzip body: ${err.message}` }));
  payload.pipe(gunzip);
  return gunzip;
}

/**
 * An upper bound of `value`'s JSON size in bytes, or Infinity once it passes `limit` (the walk
 * stops there): a string counts 6 bytes a UTF-16 unit (`\uXXXX`, the most one can take).
 */
function jsonBytesBound(value: unknown, limit: number): number {
  if (typeof value === 'string') return 6 * value.length + 2;
  if (typeof value !== 'object' || value === null) return 24;
  let total = 2;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && total <= limit; i++) total += jsonBytesBound(value[i], limit - total) + 1;
  } else {
    for (const key in value) {
      total += 6 * key.length + 4 + jsonBytesBound((value as Record<string, unknown>)[key], limit - total);
      if (total > limit) break;
    }
  }
  return total > limit ? Infinity : total;
}

/** A message's size in bytes when it may be over `limit` (serialized only then), else 0. */
export function messageBytesOver(message: unknown, limit: number): number {
  if (jsonBytesBound(message, limit) <= limit) return 0;
  const bytes = Buffer.byteLength(JSON.stringify(message) ?? '');
  return bytes > limit ? bytes : 0;
}

