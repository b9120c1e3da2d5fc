import { describe, expect, it } from 'vitest';
import { MalformedBodyError, parseJsonArrayBody, parseNdjsonBody } from '../src/ingest/event-body.js';
import { jsonErrorOffset } from '../src/ingest/json-error-offset.js';

describe('ingest body parsing', () => {
  it('parses a JSON array', () => {
    expect(parseJsonArrayBody('[{"a":1},{"b":2}]')).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('names the position of malformed JSON', () => {
    expect(() => parseJsonArrayBody('[{"a":1},{"b" 2}]')).toThrow(/malformed JSON: .* at position 14/);
    expect(() => parseJsonArrayBody('[{"a":1}')).toThrow(/malformed JSON: .*at position 8/);
  });

  it('refuses a body that is not an array', () => {
    expect(() => parseJsonArrayBody('{"a":1}')).toThrow(MalformedBodyError);
  });

  it('parses NDJSON, skipping blank lines', () => {
    expect(parseNdjsonBody('{"a":1}\n\n{"b":2}\n')).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('names the line and position of malformed NDJSON', () => {
    expect(() => parseNdjsonBody('{"a":1}\n{"b":}\n')).toThrow(/line 2: .* at position 13/);
  });
});

describe('jsonErrorOffset', () => {
  it.each([
    ['{"b":}', 5],
    ['[{"event_id": }]', 14],
    ['[{"a":1}', 8],
    ['[1,2,,3]', 5],
    ['[1 2]', 3],
    ['{"a":1}x', 7],
    ['["a\u0001"]', 3],
    ['[tru]', 4],
    ['[-]', 1],
    ['', 0],
  ])('finds the fault in %j at %i', (text, offset) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonErrorOffset(text)).toBe(offset);
  });

  it('finds no fault in valid JSON', () => {
    const text = JSON.stringify([{ a: 'x\n"\\u00e9', b: [1, -2.5e3, true, false, null], c: {} }]);
    expect(jsonErrorOffset(text)).toBe(text.length);
  });
});
