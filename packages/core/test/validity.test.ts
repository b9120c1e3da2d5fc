import { describe, expect, it } from 'vitest';
import { createPartitionState, createUserState, defaultRuleSettings as settings, floodedIpClicks, isBotUserAgent, pickFirstCopies, processBatch, processEvent } from '../src/index.js';
import { classifyCopy, firstCopyWins } from '../src/validity/first-copy.js';
import { compareCodePoints } from '../src/ordering/event-order.js';
import { isFloodClick } from '../src/validity/flood-rule.js';
import {
  CHROME_UA,
  GOOGLEBOT_UA,
  MINUTE,
  SECOND,
  T0,
  click,
  conversion,
  impression,
  outcomeOf,
  pageView,
  runSpeed,
} from './helpers.js';

describe('dedupe: the first copy by (received_at, offset) wins', () => {
  it('orders copies by received_at, then by offset (int64-exact)', () => {
    expect(firstCopyWins({ received_at: 100, offset: 9 }, { received_at: 101, offset: 1 })).toBe(true);
    expect(firstCopyWins({ received_at: 100, offset: '9007199254740993' }, { received_at: 100, offset: '9007199254740992' })).toBe(false);
    expect(firstCopyWins({ received_at: 100, offset: '9007199254740992' }, { received_at: 100, offset: '9007199254740993' })).toBe(true);
  });

  it('tells the speed layer what to do with an arriving copy', () => {
    const remembered = { received_at: 100, offset: 5 };
    expect(classifyCopy(undefined, remembered)).toBe('first');
    expect(classifyCopy(remembered, { received_at: 100, offset: 5 })).toBe('redelivery');
    expect(classifyCopy(remembered, { received_at: 120, offset: 7 })).toBe('duplicate');
    // Collector clocks differ: a later offset can carry an earlier received_at.
    expect(classifyCopy(remembered, { received_at: 90, offset: 7 })).toBe('earlier_duplicate');
  });

  it('picks the first copy of each event_id for the batch layer', () => {
    const copies = [
      { event_id: 'e1', received_at: 200, offset: 1 },
      { event_id: 'e2', received_at: 150, offset: 2 },
      { event_id: 'e1', received_at: 190, offset: 3 },
      { event_id: 'e1', received_at: 190, offset: 4 },
    ];
    const { first, duplicates } = pickFirstCopies(copies);
    expect(first.map((c) => c.offset)).toEqual([2, 3]);
    expect(duplicates.map((c) => c.offset)).toEqual([1, 4]);
  });

  it('a duplicate changes no state and produces no signal', () => {
    const user = createUserState();
    const partition = createPartitionState();
    const event = impression({ id: 'i1', ts: T0 });
    processEvent({ user, partition, settings, isDuplicate: false }, event);
    const before = JSON.stringify({ user, partition });
    const later = { ...event, ts: T0 + 5 * MINUTE }; // even a copy with another ts must not move the watermark
    const outcome = processEvent({ user, partition, settings, isDuplicate: true }, later);
    expect(outcome.status).toBe('duplicate');
    expect(outcome.signal).toBeNull();
    expect(outcome.windowMetric).toBeNull();
    expect(JSON.stringify({ user, partition })).toBe(before);
  });
});

describe('bot rule', () => {
  it('recognises Googlebot and not Chrome', () => {
    expect(isBotUserAgent(GOOGLEBOT_UA)).toBe(true);
    expect(isBotUserAgent(CHROME_UA)).toBe(false);
    expect(isBotUserAgent(undefined)).toBe(false);
  });

  it('applies to every event type, and is the only rule for conversions', () => {
    const { outcomes } = runSpeed([
      impression({ id: 'i-bot', ts: T0, ua: GOOGLEBOT_UA }),
      pageView({ id: 'p-bot', ts: T0 + 1, page: 'home', ua: GOOGLEBOT_UA }),
      conversion({ id: 'v-bot', ts: T0 + 2, ua: GOOGLEBOT_UA, value: 10 }),
      conversion({ id: 'v-ok', ts: T0 + 3, value: 10 }),
    ]);
    expect(outcomes.map((o) => o.reason)).toEqual(['bot', 'bot', 'bot', null]);
    expect(outcomeOf(outcomes, 'v-bot').attribution).toBeNull();
    expect(outcomeOf(outcomes, 'v-ok').attribution?.credits.linear[0]?.channel).toBe('direct');
  });

  it('a bot impression is not a valid impression: a click on it is an orphan', () => {
    const { outcomes } = runSpeed([
      impression({ id: 'i1', ts: T0, ua: GOOGLEBOT_UA }),
      click({ id: 'k1', ts: T0 + 5 * SECOND }),
    ]);
    expect(outcomeOf(outcomes, 'k1').reason).toBe('orphan');
  });

  it('bot comes before every other rule', () => {
    const { outcomes } = runSpeed([click({ id: 'k1', ts: T0, ua: GOOGLEBOT_UA })]);
    expect(outcomes[0]?.reason).toBe('bot'); // also an orphan, but bot is tried first
  });
});

describe('flood rule: the 11th click in [t - 60 s, t] of a user or an IP', () => {
  const keys = (n: number, start = T0) => Array.from({ length: n }, (_, i) => ({ ts: start + i * SECOND, event_id: `k${String(i).padStart(2, '0')}` }));

  it('the 10th click is fine, the 11th is a flood (same user)', () => {
    const events = [
      impression({ id: 'i0', ts: T0 - 10 * SECOND }),
      ...keys(11).map((k) => click({ id: k.event_id, ts: k.ts })),
    ];
    const { outcomes } = runSpeed(events);
    expect(outcomeOf(outcomes, 'k09').status).toBe('valid'); // 10th
    expect(outcomeOf(outcomes, 'k10').reason).toBe('flood'); // 11th
  });

  it('counts the window inclusively: a click exactly 60 s earlier counts, 60 s + 1 ms does not', () => {
    const prior = keys(10, T0);
    expect(isFloodClick(prior, { ts: T0 + 60 * SECOND, event_id: 'z' }, settings)).toBe(true);
    expect(isFloodClick(prior, { ts: T0 + 60 * SECOND + 1, event_id: 'z' }, settings)).toBe(false);
  });

  it('orders clicks with the same ts by event_id', () => {
    const nine = keys(9);
    const t = T0 + 30 * SECOND;
    const a = { ts: t, event_id: 'tie-a' };
    const b = { ts: t, event_id: 'tie-b' };
    // Whatever order they are recorded in, tie-a is the 10th and tie-b the 11th.
    expect(isFloodClick([...nine, b], a, settings)).toBe(false);
    expect(isFloodClick([...nine, a], b, settings)).toBe(true);
    const events = [...nine, b, a].map((k) => click({ id: k.event_id, ts: k.ts }));
    const { outcomes } = processBatch(events, { settings });
    expect(outcomeOf(outcomes, 'tie-a').reason).toBe('orphan'); // not a flood: the 10th
    expect(outcomeOf(outcomes, 'tie-b').reason).toBe('flood');
  });

  it('counts the clicks of one IP across users; invalid clicks count too', () => {
    // 11 users, one click each, same IP; the first is a bot click and still counts.
    const events = Array.from({ length: 11 }, (_, i) => [
      impression({ id: `i${i}`, ts: T0, user: `u${i}`, ip: '10.0.0.1' }),
      click({ id: `k${String(i).padStart(2, '0')}`, ts: T0 + 2 * SECOND + i, user: `u${i}`, ip: '10.0.0.1', ...(i === 0 ? { ua: GOOGLEBOT_UA } : {}) }),
    ]).flat();
    const { outcomes } = runSpeed(events);
    expect(outcomeOf(outcomes, 'k00').reason).toBe('bot');
    expect(outcomeOf(outcomes, 'k09').status).toBe('valid');
    expect(outcomeOf(outcomes, 'k10').reason).toBe('flood');
    // The batch layer gets the same verdict from its IP pass.
    expect([...floodedIpClicks(events.filter((e) => e.type === 'click'), settings)]).toEqual(['k10']);
    expect(outcomeOf(processBatch(events, { settings }).outcomes, 'k10').reason).toBe('flood');
  });
});

describe('orphan and too_fast: the impression-click join', () => {
  it('joins an impression exactly 30 min before; 30 min + 1 ms is an orphan', () => {
    const { outcomes } = runSpeed([
      impression({ id: 'i1', ts: T0, user: 'u1' }),
      click({ id: 'k1', ts: T0 + 30 * MINUTE, user: 'u1' }),
      impression({ id: 'i2', ts: T0, user: 'u2' }),
      click({ id: 'k2', ts: T0 + 30 * MINUTE + 1, user: 'u2' }),
    ]);
    expect(outcomeOf(outcomes, 'k1').status).toBe('valid');
    expect(outcomeOf(outcomes, 'k1').join).toEqual({ impression_event_id: 'i1', impression_ts: T0, delay_ms: 30 * MINUTE });
    expect(outcomeOf(outcomes, 'k2').reason).toBe('orphan');
    expect(outcomeOf(outcomes, 'k2').join).toBeNull();
  });

  it('needs the same ad', () => {
    const { outcomes } = runSpeed([impression({ id: 'i1', ts: T0, ad: 'a1' }), click({ id: 'k1', ts: T0 + MINUTE, ad: 'a2' })]);
    expect(outcomeOf(outcomes, 'k1').reason).toBe('orphan');
  });

  it('999 ms after the impression is too fast, 1000 ms is not', () => {
    const { outcomes } = runSpeed([
      impression({ id: 'i1', ts: T0, user: 'u1' }),
      click({ id: 'k1', ts: T0 + 999, user: 'u1' }),
      impression({ id: 'i2', ts: T0, user: 'u2' }),
      click({ id: 'k2', ts: T0 + 1000, user: 'u2' }),
    ]);
    expect(outcomeOf(outcomes, 'k1').reason).toBe('too_fast');
    expect(outcomeOf(outcomes, 'k2').status).toBe('valid');
  });

  it('measures too_fast from the latest impression of the ad', () => {
    const { outcomes } = runSpeed([
      impression({ id: 'i1', ts: T0 }),
      impression({ id: 'i2', ts: T0 + 10 * SECOND }),
      click({ id: 'k1', ts: T0 + 10.5 * SECOND }),
    ]);
    expect(outcomeOf(outcomes, 'k1').reason).toBe('too_fast');
    expect(outcomeOf(outcomes, 'k1').join?.impression_event_id).toBe('i2');
  });

  it('an impression with the click ts but a larger event_id comes after the click', () => {
    const { outcomes } = processBatch([click({ id: 'e1', ts: T0 }), impression({ id: 'e2', ts: T0 })], { settings });
    expect(outcomeOf(outcomes, 'e1').reason).toBe('orphan');
  });
});

describe('event id order', () => {
  it('is code point order (UTF-8 byte order), not UTF-16 unit order', () => {
    const astral = '\u{1F600}'; // U+1F600, a surrogate pair in UTF-16
    const bmpHigh = '\uFF21'; // U+FF21
    expect(astral < bmpHigh).toBe(true); // JavaScript's order...
    expect(compareCodePoints(astral, bmpHigh)).toBeGreaterThan(0); // ...is not DuckDB's
    expect(compareCodePoints('a', 'ab')).toBeLessThan(0);
  });
});
