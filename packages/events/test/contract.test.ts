import { describe, expect, it } from 'vitest';
import { decodeEvent, eventLimits, eventTypes, validateBatch, validateEvent, type TimeLimits } from '../src/index.js';
import { NOW, oneOfEachType } from './fixtures.js';

const limits: TimeLimits = { now: NOW, maxFutureMs: 5 * 60_000, retentionMs: 90 * 86_400_000 };

function reasonFor(value: unknown, time: TimeLimits | undefined = limits): string {
  const check = validateEvent(value, time);
  if (check.ok) throw new Error(`expected a rejection, got acceptance of ${JSON.stringify(value)}`);
  return check.reason;
}

describe('event contract', () => {
  it('accepts one event of every type', () => {
    const events = oneOfEachType();
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(eventTypes));
    const result = validateBatch(events, limits);
    expect(result.rejected).toEqual([]);
    expect(result.accepted.map((a) => a.index)).toEqual(events.map((_, i) => i));
    expect(result.accepted.map((a) => JSON.parse(a.json))).toEqual(events);
  });

  it.each([
    ['a number', 42, 'event must be a JSON object'],
    ['an array', [], 'event must be a JSON object'],
    ['null', null, 'event must be a JSON object'],
    ['no type', { event_id: 'e', user_id: 'u', ts: NOW }, 'missing required field type'],
  ])('rejects %s', (_name, value, reason) => {
    expect(reasonFor(value)).toBe(reason);
  });

  it('rejects an unknown type, naming the allowed ones', () => {
    expect(reasonFor({ event_id: 'e', type: 'purchase', user_id: 'u', ts: NOW })).toMatch(/^type must be one of impression, click/);
  });

  const valid = () => ({ event_id: 'e-1', type: 'click', user_id: 'u-1', ts: NOW, campaign_id: 'c', ad_id: 'a', channel: 'search' });

  it.each([
    ['missing event_id', (e: Record<string, unknown>) => delete e['event_id'], /missing required field event_id/],
    ['empty event_id', (e: Record<string, unknown>) => (e['event_id'] = ''), /event_id must not have fewer than 1 characters/],
    ['event_id of 65 chars', (e: Record<string, unknown>) => (e['event_id'] = 'x'.repeat(65)), /event_id must not have more than 64/],
    ['user_id of 129 chars', (e: Record<string, unknown>) => (e['user_id'] = 'u'.repeat(129)), /user_id must not have more than 128/],
    ['user_id with a control character', (e: Record<string, unknown>) => (e['user_id'] = 'a\nb'), /user_id has characters/],
    ['ts as a string', (e: Record<string, unknown>) => (e['ts'] = '2026-11-21'), /ts must be integer/],
    ['fractional ts', (e: Record<string, unknown>) => (e['ts'] = NOW + 0.5), /ts must be integer/],
    ['click without campaign_id', (e: Record<string, unknown>) => delete e['campaign_id'], /missing required field campaign_id/],
    ['click with an unknown field', (e: Record<string, unknown>) => (e['price'] = 3), /unknown field price/],
    ['channel in capitals', (e: Record<string, unknown>) => (e['channel'] = 'Search'), /channel has characters/],
    ['attrs with a nested object', (e: Record<string, unknown>) => (e['attrs'] = { a: { b: 1 } }), /attrs\.a must be string/],
    ['an attrs key with a line break', (e: Record<string, unknown>) => (e['attrs'] = { 'a\nb': 'x' }), /^attrs key "a\\nb" has characters that are not allowed/],
    ['an attrs key with a line break and an object value', (e: Record<string, unknown>) => (e['attrs'] = { 'a\nb': { nested: [1, 2] } }), /^attrs key "a\\nb" has characters/],
  ])('rejects a click with %s', (_name, mutate, reason) => {
    const event = valid();
    mutate(event);
    expect(reasonFor(event)).toMatch(reason);
  });

  it.each([
    ['a negative cost', -1, '-1'],
    ['a fractional cost', 0.5, '0.5'],
    ['a cost over 1e12 micros', 1e12 + 1, '1000000000001'],
    ['a cost as a string', '2000', '"2000"'],
    ['a cost of null', null, 'null'],
  ])('rejects a touchpoint with %s, naming cost and its range', (_name, cost, shown) => {
    for (const type of ['impression', 'click']) {
      const event = { ...valid(), type, cost };
      expect(reasonFor(event)).toBe(`cost must be an integer number of micros from 0 to 1000000000000 (got ${shown})`);
    }
  });

  it('accepts a touchpoint cost of 0 and of exactly 1e12 micros, and none at all', () => {
    for (const cost of [0, 1e12, undefined]) expect(validateEvent({ ...valid(), cost }, limits).ok).toBe(true);
    // cost belongs to touchpoints only.
    expect(reasonFor({ event_id: 'e', type: 'page_view', user_id: 'u', ts: NOW, page_id: 'p', cost: 5 })).toBe('unknown field cost');
  });

  it.each([
    ['scroll depth over 100', { type: 'scroll', page_id: 'p', depth: 101 }, /depth must be less or equal to 100|depth must/],
    ['scroll without page_id', { type: 'scroll', depth: 10 }, /missing required field page_id/],
    ['negative conversion value', { type: 'conversion', value: -1 }, /value must/],
    ['lower-case currency', { type: 'conversion', value: 1, currency: 'eur' }, /currency has characters/],
    ['unknown form action', { type: 'form_interaction', form_id: 'f', action: 'click' }, /action must be one of focus, input, submit, abandon/],
    ['element_click without element_id', { type: 'element_click', page_id: 'p' }, /missing required field element_id/],
    ['link_follow without href', { type: 'link_follow' }, /missing required field href/],
    ['mouse_move with negative x', { type: 'mouse_move', page_id: 'p', x: -1, y: 2 }, /x must/],
  ])('rejects %s', (_name, fields, reason) => {
    expect(reasonFor({ event_id: 'e-1', user_id: 'u-1', ts: NOW, ...fields })).toMatch(reason);
  });

  it('rejects an event over 8 KiB and accepts one just under', () => {
    const event = { event_id: 'e-1', type: 'link_follow', user_id: 'u-1', ts: NOW, href: '' };
    const overhead = Buffer.byteLength(JSON.stringify(event));
    const size = (e: unknown) => Buffer.byteLength(JSON.stringify(e));
    const attrs: Record<string, string> = {};
    const fits = { ...event, href: 'h'.repeat(eventLimits.maxHrefLength), attrs };
    for (let i = 0; size(fits) + 520 < eventLimits.maxEventBytes; i++) attrs[`k${i}`] = 'v'.repeat(500);
    attrs['last'] = '';
    attrs['last'] = 'v'.repeat(eventLimits.maxEventBytes - size(fits));
    expect(overhead).toBeLessThan(100);
    expect(Buffer.byteLength(JSON.stringify(fits))).toBe(eventLimits.maxEventBytes);
    expect(validateEvent(fits, limits).ok).toBe(true);
    const over = { ...fits, attrs: { ...fits.attrs, z: 'x' } };
    expect(reasonFor(over)).toMatch(/^event is \d+ bytes \(limit 8192\)$/);
  });

  it('counts bytes, not characters, toward the size limit', () => {
    const event = { event_id: 'e-1', type: 'link_follow', user_id: 'u-1', ts: NOW, href: '€'.repeat(2_000) };
    // 2,000 characters but 6,000 bytes of href: under the 2,048-character limit, and the event is still < 8 KiB.
    expect(validateEvent(event, limits).ok).toBe(true);
    const attrs = { a: '€'.repeat(500), b: '€'.repeat(500) };
    expect(reasonFor({ ...event, attrs })).toMatch(/bytes \(limit 8192\)/);
  });

  it('rejects ts more than 5 minutes in the future, accepts exactly 5 minutes', () => {
    const at = (ts: number) => ({ event_id: 'e', type: 'page_view', user_id: 'u', ts, page_id: 'p' });
    expect(validateEvent(at(NOW + 5 * 60_000), limits).ok).toBe(true);
    expect(reasonFor(at(NOW + 5 * 60_000 + 1))).toBe('ts is 300 s in the future (limit 300 s)');
    expect(reasonFor(at(NOW + 3_600_000))).toBe('ts is 3600 s in the future (limit 300 s)');
  });

  it('rejects ts older than the retention, accepts the oldest retained instant', () => {
    const at = (ts: number) => ({ event_id: 'e', type: 'page_view', user_id: 'u', ts, page_id: 'p' });
    expect(validateEvent(at(NOW - limits.retentionMs), limits).ok).toBe(true);
    expect(reasonFor(at(NOW - limits.retentionMs - 1))).toBe("ts is older than the archive's retention (90 d)");
    // A retention under a day is named in its own unit (not "0 d").
    const short = { ...limits, retentionMs: 10 * 60_000 };
    expect(reasonFor(at(NOW - short.retentionMs - 1), short)).toBe("ts is older than the archive's retention (10 min)");
  });

  it('reports the index and reason of each rejected event in a mixed batch', () => {
    const [good1, good2] = oneOfEachType();
    const result = validateBatch([good1, { type: 'nope' }, good2, 'x'], limits);
    expect(result.accepted.map((a) => a.index)).toEqual([0, 2]);
    expect(result.rejected).toEqual([
      { index: 1, code: 'unknown_type', reason: expect.stringMatching(/^type must be one of/) },
      { index: 3, code: 'not_object', reason: 'event must be a JSON object' },
    ]);
  });

  it('decodes a Kafka message and refuses poison', () => {
    const [event] = oneOfEachType();
    const message = JSON.stringify({ ...event, received_at: NOW });
    expect(decodeEvent(Buffer.from(message))).toEqual({ ...event, received_at: NOW });
    expect(() => decodeEvent(Buffer.from('{"type":'))).toThrow(/not JSON/);
    expect(() => decodeEvent(JSON.stringify(event))).toThrow(/missing required field received_at/);
    expect(() => decodeEvent(null)).toThrow(/empty message/);
    const huge = JSON.stringify({ ...event, attrs: { a: 'x'.repeat(500) }, received_at: NOW }).replace('"a":', `"a":"${'y'.repeat(9000)}","b":`);
    expect(() => decodeEvent(huge)).toThrow(/bytes \(limit 8192\)/);
  });
});

describe('custom events and traits', () => {
  const track = (extra: Record<string, unknown>) => ({ event_id: 'e-t', type: 'track', user_id: 'u-1', ts: NOW, name: 'search', ...extra });
  const checked = (value: unknown) => {
    const r = validateEvent(value, limits);
    return r.ok ? JSON.parse(r.json) : r.reason;
  };

  it('keeps a name lower-cased with spaces as _, the original beside it', () => {
    expect(checked(track({ name: 'Add  To Wishlist' }))).toMatchObject({ name: 'add_to_wishlist', name_original: 'Add  To Wishlist' });
    expect(checked(track({ name: 'search' }))).not.toHaveProperty('name_original');
    expect(checked(track({ name: 'Café!' }))).toBe('name must be 1 to 64 of a-z, 0-9, _ . : - once lower-cased (spaces become _)');
    expect(checked(track({ name: 'x'.repeat(65) }))).toMatch(/name must not have more than 64/);
  });

  it('flattens one level of properties with ".", drops nulls, and refuses what the contract cannot keep, naming the field', () => {
    expect(checked(track({ properties: { product: { id: 7, name: 'tent' }, coupon: null, qty: 2 } })).properties).toEqual({ 'product.id': 7, 'product.name': 'tent', qty: 2 });
    expect(checked(track({ properties: { product: { size: { w: 2 } } } }))).toBe('properties.product.size is nested more than one level');
    expect(checked(track({ properties: { products: [1, 2] } }))).toBe('properties.products is a list: values are strings, numbers or booleans');
    expect(checked(track({ properties: { note: 'x'.repeat(257) } }))).toBe('properties.note is longer than 256 characters');
    expect(checked(track({ properties: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) }))).toBe('properties has 33 keys (limit 32)');
    expect(checked(track({ properties: { ['k'.repeat(65)]: 1 } }))).toMatch(/^properties key "k+" must be 1 to 64 characters$/);
  });

  it('bounds traits at 64 and needs them on identify', () => {
    const identify = (traits: unknown) => ({ event_id: 'e-i', type: 'identify', user_id: 'u-1', ts: NOW, traits });
    expect(checked(identify({ plan: 'pro' }))).toMatchObject({ traits: { plan: 'pro' } });
    expect(checked(identify(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`t${i}`, i]))))).toBe('traits has 65 keys (limit 64)');
    expect(checked({ event_id: 'e-i', type: 'identify', user_id: 'u-1', ts: NOW })).toMatch(/missing required field traits/);
  });
});
