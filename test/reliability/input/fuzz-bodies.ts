// Deterministic request bodies for the collector fuzz test: valid events of every type, events
// broken in one known way, random and mutated JSON/NDJSON, deep nesting, huge strings and
// invalid UTF-8. A seeded PRNG (no Math.random) makes every run send the same bytes.
import { eventLimits, eventTypes, type EventType } from '@sigflow/events';

/** mulberry32: small, fast, seedable. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** [0, 1) */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** Strings that must stay data wherever they go (SQL, paths, logs, HTML). */
export const hostileStrings = [
  "' OR 1=1 --",
  '"; DROP TABLE events; --',
  "1'); DELETE FROM x; --",
  '../../etc/passwd',
  '..%2f..%2f..%2fetc%2fpasswd',
  '/etc/passwd',
  'C:\\Windows\\win.ini',
  '<script>alert(1)</script>',
  '${jndi:ldap://x/a}',
  '%00',
  '{{7*7}}',
  '$(rm -rf /)',
  '\\u0000',
];

// Printable pieces (no C0 controls, no DEL, no unpaired surrogates): what ids may contain.
const printablePieces = [
  'a', 'Z', '7', '-', '_', '.', ':', '/', ' ', "'", '"', '\\', ';', '%', '*', '?', '#', '&', '=', '+', ',', '<', '>', '{', '}', '[', ']',
  'é', 'ß', '中', 'ж', '😀', '👩‍👩‍👧', '\u200b', '\u202e', '\u2028', '\ufffd', '\u00a0', 'ǅ', ...hostileStrings,
];

/** A printable string of at most `maxUnits` UTF-16 units (and at least 1). */
export function printable(rng: Rng, maxUnits: number): string {
  let s = '';
  const target = rng.between(1, Math.max(1, Math.min(maxUnits, 40)));
  while (s.length < target) {
    const piece = rng.pick(printablePieces);
    if (s.length + piece.length > maxUnits) break;
    s += piece;
  }
  return s.length > 0 ? s : 'x';
}

const channels = ['search', 'social', 'display', 'video', 'email', 'affiliate', 'x_1-2'];

/** A flat bag of properties or traits as the contract bounds them: a few keys, string, number and boolean values. */
function bag(rng: Rng): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (let i = rng.int(5); i > 0; i--) {
    const key = rng.pick(['query', 'sku', 'plan', 'price', 'vip', 'results', 'page']);
    out[key] = rng.chance(0.4) ? printable(rng, 100) : rng.chance(0.5) ? Math.round(rng.next() * 1e4) / 100 : rng.chance(0.5);
  }
  return out;
}

/** A valid event of a random type: event time within the last half hour (`now` = client clock). */
export function validEvent(rng: Rng, eventId: string, now: number): Record<string, unknown> {
  const type: EventType = rng.pick(eventTypes);
  const event: Record<string, unknown> = {
    event_id: eventId,
    type,
    user_id: printable(rng, 60),
    ts: now - rng.int(30 * 60_000),
  };
  const touch = () => {
    event['campaign_id'] = printable(rng, 60);
    event['ad_id'] = printable(rng, 60);
    event['channel'] = rng.pick(channels);
  };
  switch (type) {
    case 'impression':
    case 'click':
      touch();
      break;
    case 'conversion':
      if (rng.chance(0.7)) event['value'] = rng.chance(0.2) ? 0 : Math.round(rng.next() * 1e6) / 100;
      if (rng.chance(0.5)) event['currency'] = rng.pick(['EUR', 'USD', 'JPY']);
      break;
    case 'page_view':
      event['page_id'] = printable(rng, 60);
      break;
    case 'element_click':
      event['page_id'] = printable(rng, 60);
      event['element_id'] = printable(rng, 60);
      break;
    case 'scroll':
      event['page_id'] = printable(rng, 60);
      event['depth'] = rng.chance(0.5) ? rng.int(101) : rng.next() * 100;
      break;
    case 'form_interaction':
      event['form_id'] = printable(rng, 60);
      event['action'] = rng.pick(['focus', 'input', 'submit', 'abandon']);
      break;
    case 'link_follow':
      event['href'] = rng.pick(['https://example.com/a?b=c#d', 'javascript:alert(1)', 'file:///etc/passwd', '../../x', printable(rng, 200)]);
      break;
    case 'mouse_move':
      event['page_id'] = printable(rng, 60);
      event['x'] = rng.int(100_001);
      event['y'] = rng.next() * 100_000;
      break;
    case 'track':
      event['name'] = rng.pick(['search', 'product_viewed', 'added_to_cart', 'checkout.step:2', 'wishlist-add']);
      if (rng.chance(0.7)) event['properties'] = bag(rng);
      break;
    case 'identify':
      event['traits'] = bag(rng);
      break;
    case 'alias':
      event['previous_id'] = printable(rng, 60);
      break;
    case 'group':
      event['group_id'] = printable(rng, 60);
      if (rng.chance(0.5)) event['traits'] = bag(rng);
      break;
  }
  if (rng.chance(0.3)) event['ip'] = rng.pick(['198.51.100.7', '2001:db8::1', printable(rng, 60)]);
  // User agents have no character rule: control characters are data too.
  if (rng.chance(0.3)) event['user_agent'] = rng.chance(0.3) ? 'Mozilla/5.0\u0000\u0007\t' : printable(rng, 300);
  if (rng.chance(0.2) && !('page_id' in event)) event['page_id'] = printable(rng, 60);
  if (rng.chance(0.2)) event['placement'] = printable(rng, 60);
  if (rng.chance(0.25)) {
    const attrs: Record<string, string> = {};
    for (let i = rng.int(6); i > 0; i--) attrs[printable(rng, 60)] = rng.chance(0.2) ? '' : printable(rng, 200);
    event['attrs'] = attrs;
  }
  if (rng.chance(0.05)) event['received_at'] = rng.int(2 ** 40); // the collector's stamp replaces it
  // Stay under the 8 KiB event limit whatever the pieces were (multi-byte, escapes).
  if (Buffer.byteLength(JSON.stringify(event)) > eventLimits.maxEventBytes - 64) delete event['attrs'];
  if (Buffer.byteLength(JSON.stringify(event)) > eventLimits.maxEventBytes - 64) delete event['user_agent'];
  return event;
}

/** Nested `{"a":...}` or `[...]` `depth` levels deep, as text. */
export function deepText(depth: number, kind: 'object' | 'array', inner = '1'): string {
  return kind === 'object' ? `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}` : `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
}

/** An element that is valid JSON but not a valid event, as text; the collector must reject it (index listed). */
export function invalidElement(rng: Rng, eventId: string, now: number): string {
  const base = validEvent(rng, eventId, now);
  const mutate = rng.int(24);
  switch (mutate) {
    case 0: {
      // a required field missing
      const required = ['event_id', 'type', 'user_id', 'ts'];
      delete base[rng.pick(required)];
      break;
    }
    case 1:
      base['ts'] = rng.pick([String(now), now + 0.5, -1, null, true, [now], { $gt: 0 }, '1e400']);
      break;
    case 2:
      base['user_id'] = rng.pick([42, null, '', ['u'], { id: 'u' }, false]);
      break;
    case 3:
      base['event_id'] = 'e'.repeat(eventLimits.maxEventIdLength + 1 + rng.int(1000));
      break;
    case 4:
      base['user_id'] = `u${rng.pick(['\u0000', '\u0001', '\n', '\u001f', '\u007f', '\r'])}x`;
      break;
    case 5:
      base['ts'] = now + 3_600_000; // > 5 min in the future
      break;
    case 6:
      base['ts'] = rng.pick([0, 1, now - 400 * 86_400_000]); // older than retention
      break;
    case 7:
      base['type'] = rng.pick(['tap', 'IMPRESSION', '', 'click ', "' OR 1=1 --", 7, null]);
      break;
    case 8: {
      // An unknown field; `__proto__` only exists as an own member in JSON text.
      const name = rng.pick(['extra', '__proto__', 'constructor', 'prototype', "'; DROP TABLE x; --", 'toString']);
      return `${JSON.stringify(base).slice(0, -1)},${JSON.stringify(name)}:{"polluted":true}}`;
    }
    case 9:
      base['attrs'] = rng.chance(0.5) ? { nested: { a: 1 } } : JSON.parse(deepText(rng.between(2, 500), 'object', '"x"'));
      break;
    case 10:
      base['user_agent'] = 'A'.repeat(eventLimits.maxUserAgentLength + 1 + rng.int(50_000));
      break;
    case 11: {
      // every field within its limit, the event over 8 KiB
      const attrs: Record<string, string> = {};
      for (let i = 0; i < 20; i++) attrs[`k${i}`] = 'v'.repeat(eventLimits.maxAttrValueLength);
      base['attrs'] = attrs;
      break;
    }
    case 12:
      return rng.pick(['1', '"event"', 'null', 'true', '[]', '[{}]', '-0', '1e308', `"${'s'.repeat(rng.int(100_000))}"`]);
    case 13:
      base['user_id'] = rng.pick(['\ud800', 'a\udc00b', '\udfff\ud800']); // unpaired surrogates: not Unicode
      break;
    case 14:
      base['attrs'] = rng.chance(0.3)
        ? { [`k${'k'.repeat(64 + rng.int(500))}`]: 'v' } // attr key over 64
        : { k: rng.pick([1, null, true, ['v'], 'v'.repeat(eventLimits.maxAttrValueLength + 1)]) };
      break;
    case 15: {
      const attrs: Record<string, string> = {};
      for (let i = 0; i <= eventLimits.maxAttrs; i++) attrs[`k${i}`] = 'v';
      base['attrs'] = attrs;
      break;
    }
    case 16:
      base['type'] = 'scroll';
      base['page_id'] = 'p';
      base['depth'] = rng.pick([101, -1, '50', null, 1e9]);
      break;
    case 17:
      base['type'] = 'conversion';
      for (const k of ['campaign_id', 'ad_id', 'channel', 'page_id', 'element_id', 'depth', 'form_id', 'action', 'href', 'x', 'y']) delete base[k];
      if (rng.chance(0.5)) base['value'] = rng.pick([-1, 1e13, '10', null]);
      else base['currency'] = rng.pick(['eur', 'EURO', '€', '']);
      break;
    case 18:
      base['type'] = 'click';
      base['campaign_id'] = 'c';
      base['ad_id'] = 'a';
      base['channel'] = rng.pick(['Search', 'so cial', '', 'x'.repeat(33), "'; --", '../x']);
      break;
    case 19:
      base['type'] = 'form_interaction';
      base['form_id'] = 'f';
      base['action'] = rng.pick(['click', '', 'SUBMIT', null]);
      break;
    case 20:
      base['campaign_id'] = 'c'.repeat(eventLimits.maxIdLength + 1);
      base['type'] = 'impression';
      base['ad_id'] = 'a';
      base['channel'] = 'search';
      break;
    case 21:
      return `[${JSON.stringify(base)}]`; // an array, not an object
    case 22:
      base['ts'] = rng.pick([1.5, Number.MAX_SAFE_INTEGER + 2, 1e300]);
      break;
    default:
      base['ip'] = rng.pick(['', 'x'.repeat(65), '1.2.3.4\n']);
      break;
  }
  return JSON.stringify(base);
}

/** A random JSON value (any type, nested), as text. */
export function randomJson(rng: Rng, depth = 0): string {
  const r = rng.int(depth > 4 ? 5 : 8);
  switch (r) {
    case 0:
      return rng.pick(['null', 'true', 'false']);
    case 1:
      return rng.pick(['0', '-1', '1e308', '-0.0', '123456789012345678901234567890', '1E-400', String(rng.next())]);
    case 2:
      return JSON.stringify(printable(rng, 40));
    case 3:
      return JSON.stringify(rng.pick(hostileStrings));
    case 4:
      return JSON.stringify(rng.pick(eventTypes));
    case 5:
    case 6: {
      const members: string[] = [];
      for (let i = rng.int(6); i > 0; i--) {
        const key = rng.pick(['event_id', 'type', 'user_id', 'ts', 'page_id', '__proto__', 'attrs', printable(rng, 10)]);
        members.push(`${JSON.stringify(key)}:${randomJson(rng, depth + 1)}`);
      }
      return `{${members.join(',')}}`;
    }
    default: {
      const items: string[] = [];
      for (let i = rng.int(5); i > 0; i--) items.push(randomJson(rng, depth + 1));
      return `[${items.join(',')}]`;
    }
  }
}

/** Byte-level damage: deletions, insertions (invalid UTF-8 included), flips, truncation. */
export function mutateBytes(rng: Rng, input: Buffer): Buffer {
  let bytes = Buffer.from(input);
  const edits = rng.between(1, 8);
  const junk = [
    [0xff],
    [0xfe, 0xff],
    [0xc3],
    [0xc0, 0xaf], // overlong '/'
    [0xed, 0xa0, 0x80], // an encoded surrogate
    [0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
    [0x00],
    [0x22],
    [0x5c],
    [0x7b],
    [0x5d],
    [0x2c],
    [0x0a],
  ];
  for (let e = 0; e < edits && bytes.length > 0; e++) {
    const at = rng.int(bytes.length);
    const op = rng.int(5);
    if (op === 0) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + rng.between(1, 4))]);
    else if (op === 1) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(rng.pick(junk)), bytes.subarray(at)]);
    else if (op === 2) bytes[at] = bytes[at]! ^ (1 << rng.int(8));
    else if (op === 3) bytes = bytes.subarray(0, at);
    else bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at, at + rng.between(1, 40)), bytes.subarray(at)]);
  }
  return bytes;
}

/** Random bytes, biased to JSON punctuation and invalid UTF-8. */
export function randomBytes(rng: Rng, length: number): Buffer {
  const out = Buffer.alloc(length);
  const common = Buffer.from('[]{}",:0123456789truefalsn \n\\');
  for (let i = 0; i < length; i++) out[i] = rng.chance(0.5) ? common[rng.int(common.length)]! : rng.int(256);
  return out;
}
