import { describe, expect, it } from 'vitest';
import { attributeConversion, defaultRuleSettings as settings, markovJourneys, trainMarkovChain, type JourneyEvent, type Touchpoint } from '../src/index.js';
import { SECOND, T0 } from './helpers.js';

// Paths: A -> B -> conv, B -> A -> null, A -> conv.
// Transitions: start->A 2/3, start->B 1/3; A->B, A->null, A->conv 1/3 each; B->conv, B->A 1/2 each.
// P(conv from A) = x_A = 1/3 x_B + 1/3, x_B = 1/2 + 1/2 x_A  =>  x_A = 3/5, x_B = 4/5
// P(conv) = 2/3 * 3/5 + 1/3 * 4/5 = 2/3
// Remove A: x_B = 1/2, P = 1/3 * 1/2 = 1/6  ->  RE_A = 1 - (1/6)/(2/3) = 3/4
// Remove B: x_A = 1/3, P = 2/3 * 1/3 = 2/9  ->  RE_B = 1 - (2/9)/(2/3) = 2/3
// A converting path A, B: A = (3/4)/(3/4 + 2/3) = 9/17, B = 8/17.
const model = trainMarkovChain([
  { channels: ['A', 'B'], converted: true },
  { channels: ['B', 'A'], converted: false },
  { channels: ['A'], converted: true },
  { channels: [], converted: true }, // no touchpoints: left out
]);

function touch(id: string, i: number, channel: string): Touchpoint {
  return { event_id: id, ts: T0 + i * SECOND, type: 'click', campaign_id: 'c', ad_id: 'a', channel };
}

describe('markov (first-order removal effect)', () => {
  it('has exact transition probabilities', () => {
    const p = (from: string, to: string) => model.transitions.find((t) => t.from === from && t.to === to)?.probability;
    expect(p('(start)', 'A')).toBe(2 / 3);
    expect(p('A', '(null)')).toBe(1 / 3);
    expect(p('B', '(conversion)')).toBe(1 / 2);
  });

  it('solves the absorbing chain for P(conversion) and the removal effects', () => {
    expect(model.conversionProbability).toBeCloseTo(2 / 3, 12);
    expect(model.removalEffects[0]).toEqual({ channel: 'A', effect: expect.closeTo(3 / 4, 12) });
    expect(model.removalEffects[1]).toEqual({ channel: 'B', effect: expect.closeTo(2 / 3, 12) });
  });

  it('credits a path in proportion to its channels’ removal effects, split over touchpoints', () => {
    const r = attributeConversion([touch('t1', 1, 'A'), touch('t2', 2, 'B'), touch('t3', 3, 'A')], { ts: T0 + 10 * SECOND, event_id: 'v' }, { settings, markov: model });
    const f = r.credits.markov?.map((c) => c.fraction) ?? [];
    expect(f[0]).toBeCloseTo(9 / 34, 12);
    expect(f[1]).toBeCloseTo(8 / 17, 12);
    expect(f[2]).toBeCloseTo(9 / 34, 12);
  });

  it('a channel the model never saw gets 0; all-zero effects split equally', () => {
    const r = attributeConversion([touch('t1', 1, 'A'), touch('t2', 2, 'Z')], { ts: T0 + 10 * SECOND, event_id: 'v' }, { settings, markov: model });
    expect(r.credits.markov?.map((c) => c.fraction)).toEqual([1, 0]);
    const none = attributeConversion([touch('t1', 1, 'Y'), touch('t2', 2, 'Z')], { ts: T0 + 10 * SECOND, event_id: 'v' }, { settings, markov: model });
    expect(none.credits.markov?.map((c) => c.fraction)).toEqual([0.5, 0.5]);
  });

  it('is batch-only: absent unless a model is given', () => {
    expect(attributeConversion([touch('t1', 1, 'A')], { ts: T0 + 10 * SECOND, event_id: 'v' }, { settings }).credits.markov).toBeUndefined();
  });
});

const DAY = 86_400_000;
const HOUR = 3_600_000;
const LOOKBACK = settings.attributionLookbackMs;
const tp = (id: string, at: number, channel: string): JourneyEvent => ({ ts: T0 + at, event_id: id, kind: 'touchpoint', channel });
const conv = (id: string, at: number): JourneyEvent => ({ ts: T0 + at, event_id: id, kind: 'conversion' });
const effectsOf = (m: ReturnType<typeof trainMarkovChain>) => Object.fromEntries(m.removalEffects.map((e) => [e.channel, e.effect]));

describe('markov journeys: cut at each conversion with the attribution lookback', () => {
  it('a person who converts twice: a journey each, touchpoints after a conversion in the next, one outside the lookback in none', () => {
    expect(LOOKBACK).toBe(7 * DAY);
    // Shuffled on purpose: the cut orders by (ts, event_id).
    const events = [conv('v2', 9 * DAY + 2 * HOUR), tp('s', 0, 'search'), tp('d', 9 * DAY + 3 * HOUR, 'display'), tp('e', 8 * DAY, 'email'), conv('v1', 9 * DAY), tp('o', 9 * DAY + HOUR, 'social')];
    expect(markovJourneys(events, LOOKBACK)).toEqual([
      { channels: ['email'], converted: true }, // `s` is 9 days before v1: in no journey
      { channels: ['social'], converted: true }, // after v1 only: `e` belongs to v1's journey
      { channels: ['display'], converted: false }, // after the last conversion
    ]);
  });

  it('the lookback is inclusive at t - 7 d; same-time events go by event id; a conversion without touchpoints makes no journey', () => {
    const events = [tp('a', 0, 'search'), conv('v1', 7 * DAY), conv('v2', 8 * DAY), tp('t', 9 * DAY, 'email'), conv('v3', 9 * DAY), tp('w', 9 * DAY, 'social')];
    expect(markovJourneys(events, LOOKBACK)).toEqual([
      { channels: ['search'], converted: true }, // exactly 7 days before v1
      // v2: nothing after v1. v3 at the same ms as t and w: t sorts before v3, w after it.
      { channels: ['email'], converted: true },
      { channels: ['social'], converted: false },
    ]);
    expect(markovJourneys([tp('a', 0, 'search'), tp('b', DAY, 'search')], LOOKBACK)).toEqual([{ channels: ['search', 'search'], converted: false }]);
    expect(markovJourneys([conv('v', 0)], LOOKBACK)).toEqual([]);
  });

  // Journeys: [search, email] -> conv, [search] -> null, [email] -> conv, [display, search] -> null.
  // start: search 2/4, email 1/4, display 1/4; search: email 1/3, null 2/3; email: conv 1; display: search 1.
  // x_email = 1, x_search = 1/3, x_display = 1/3; P(conv) = 1/2 * 1/3 + 1/4 + 1/4 * 1/3 = 1/2.
  // Remove email: every path to conversion passes it: P = 0, RE = 1.
  // Remove search: P = 1/4 (start -> email), RE = 1/2. Remove display: P = 1/6 + 1/4 = 5/12, RE = 1/6.
  // A path display, search, email: weights 1/6, 1/2, 1 of 5/3: 0.1, 0.3, 0.6.
  it('removal effects by hand, a channel whose removal leaves no path to conversion among them, and the credit they give', () => {
    const journeys = [
      ...markovJourneys([tp('s1', 0, 'search'), tp('e1', HOUR, 'email'), conv('v1', 2 * HOUR), tp('s2', 3 * HOUR, 'search')], LOOKBACK),
      ...markovJourneys([tp('e2', 0, 'email'), conv('v2', HOUR)], LOOKBACK),
      ...markovJourneys([tp('d3', 0, 'display'), tp('s3', HOUR, 'search')], LOOKBACK),
    ];
    const m = trainMarkovChain(journeys);
    expect(m.conversionProbability).toBeCloseTo(1 / 2, 12);
    const effects = effectsOf(m);
    expect(effects['email']).toBeCloseTo(1, 12);
    expect(effects['search']).toBeCloseTo(1 / 2, 12);
    expect(effects['display']).toBeCloseTo(1 / 6, 12);
    const path = [touch('t1', 1, 'display'), touch('t2', 2, 'search'), touch('t3', 3, 'email')];
    const credit = attributeConversion(path, { ts: T0 + 10 * SECOND, event_id: 'v' }, { settings, markov: m }).credits.markov?.map((c) => c.fraction) ?? [];
    expect(credit.map((f) => Math.round(f * 1e12) / 1e12)).toEqual([0.1, 0.3, 0.6]);
  });

  // Journeys: [a, b] -> conv, [a] -> null. start: a 1; a: b 1/2, null 1/2; b: conv 1. P(conv) = 1/2.
  // Removing either leaves no path: RE(a) = RE(b) = 1, so a path a, b, b splits a 1/2, each b 1/4.
  it('two channels with equal effects split the credit equally, each over its own touchpoints', () => {
    const m = trainMarkovChain([...markovJourneys([tp('a1', 0, 'a'), tp('b1', HOUR, 'b'), conv('v', 2 * HOUR), tp('a2', 3 * HOUR, 'a')], LOOKBACK)]);
    expect(effectsOf(m)).toEqual({ a: expect.closeTo(1, 12), b: expect.closeTo(1, 12) });
    const credit = attributeConversion([touch('t1', 1, 'a'), touch('t2', 2, 'b'), touch('t3', 3, 'b')], { ts: T0 + 10 * SECOND, event_id: 'v' }, { settings, markov: m }).credits.markov;
    expect(credit?.map((c) => c.fraction)).toEqual([0.5, 0.25, 0.25]);
  });
});
