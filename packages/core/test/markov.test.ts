import { describe, expect, it } from 'vitest';
import { attributeConversion, defaultRuleSettings as settings, trainMarkovChain, type Touchpoint } from '../src/index.js';
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
