import { jsonErrorOffset } from './json-error-offset.js';

/**
 * Parses an ingest body: a JSON array of events, or NDJSON (one event per line).
 * Errors name the position (and line, for NDJSON) so a client can find the fault.
 */
export class MalformedBodyError extends Error {
  override readonly name = 'MalformedBodyError';
  readonly statusCode = 400;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** "<what> at position N" for a JSON.parse failure; the position counts from the body's start. */
export function describeJsonError(err: unknown, text: string, offset = 0): string {
  // V8 quotes the input in some messages; keep only what it says went wrong.
  const what = (err as Error).message.split(/,? "|,? \.\.\."| in JSON at position/)[0]!.trim();
  return `${what} at position ${offset + jsonErrorOffset(text)}`;
}

export function parseJsonArrayBody(text: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new MalformedBodyError(`malformed JSON: ${describeJsonError(cause, text)}`, { cause });
  }
  if (!Array.isArray(value)) {
    throw new MalformedBodyError('expected a JSON array of events (or NDJSON with content-type application/x-ndjson)');
  }
  return value;
}

export function parseNdjsonBody(text: string): unknown[] {
  const events: unknown[] = [];
  let start = 0;
  let line = 1;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const raw = text.slice(start, end);
    if (raw.trim().length > 0) {
      try {
        events.push(JSON.parse(raw));
      } catch (cause) {
        throw new MalformedBodyError(`malformed NDJSON on line ${line}: ${describeJsonError(cause, raw, start)}`, {
          cause,
        });
      }
    }
    start = end + 1;
    line++;
  }
  return events;
}
