import { describe, expect, it } from 'vitest';
import { parseRange, parseTime } from '../src/http/params.js';
import { KeyRing, keyDigest, presentedKey, roleAllows } from '../src/auth/api-keys.js';
import { BadParameterError } from '../src/errors.js';

const HOUR = 3_600_000;
const H0 = Date.UTC(2026, 0, 5, 10); // an hour start

describe('parameters and keys (pure)', () => {
  it('parses epoch ms and ISO-8601 (UTC unless an offset is given), naming the parameter otherwise', () => {
    expect(parseTime('1767607200000', 'from')).toBe(1767607200000);
    expect(parseTime('2026-01-05', 'from')).toBe(Date.UTC(2026, 0, 5));
    expect(parseTime('2026-01-05T10', 'from')).toBe(Date.UTC(2026, 0, 5, 10));
    expect(parseTime('2026-01-05T10:30:00.250Z', 'from')).toBe(Date.UTC(2026, 0, 5, 10, 30, 0, 250));
    expect(parseTime('2026-01-05T10:30+02:00', 'from')).toBe(Date.UTC(2026, 0, 5, 8, 30));
    for (const bad of ['yesterday', '2026-13-45', '-5', '1e9', '2026-01-05 10:00']) {
      expect(() => parseTime(bad, 'to')).toThrow(expect.objectContaining({ parameter: 'to' }) as Error);
    }
  });

  it('ranges: defaults, order and maximum', () => {
    const opts = { now: H0, maxRangeMs: 2 * HOUR, defaultSpanMs: HOUR };
    expect(parseRange(undefined, undefined, opts)).toEqual({ from: H0 - HOUR, to: H0 });
    expect(() => parseRange(String(H0), String(H0), opts)).toThrow(BadParameterError);
    expect(() => parseRange(String(H0), String(H0 - 1), opts)).toThrow(expect.objectContaining({ parameter: 'from' }) as Error);
    expect(() => parseRange(String(H0), String(H0 + 2 * HOUR + 1), opts)).toThrow(expect.objectContaining({ parameter: 'to' }) as Error);
  });

  it('keys: roles include the lower ones; any of three headers presents a key', () => {
    const ring = new KeyRing(new Map([['k-read', 'reader'], ['k-ops', 'ops']] as const));
    expect(ring.roleOf(keyDigest('k-ops'))).toBe('ops');
    expect(ring.roleOf(keyDigest('k-read'))).toBe('reader');
    expect(ring.roleOf(keyDigest('k-op'))).toBeNull();
    expect(roleAllows('ops', 'analyst')).toBe(true);
    expect(roleAllows('reader', 'analyst')).toBe(false);
    expect(presentedKey({ 'x-api-key': 'k-ops' })).toBe('k-ops');
    expect(presentedKey({ authorization: 'Bearer k-ops' })).toBe('k-ops');
    expect(presentedKey({ authorization: `Basic ${Buffer.from('anyone:k-ops').toString('base64')}` })).toBe('k-ops');
    expect(presentedKey({ authorization: 'Digest abc' })).toBeUndefined();
    expect(ring.size).toBe(2);
  });
});
