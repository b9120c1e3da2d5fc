import { describe, expect, it } from 'vitest';
import { engagementAt, pageHeatmap } from '../src/index.js';
import { absorbEngagement, createEngagement, engagementWeights } from '../src/engagement/engagement-score.js';
import { DAY, HOUR, T0, seededRandom, shuffle } from './helpers.js';

const HALF_LIFE = 3 * DAY;

describe('engagement score', () => {
  it('decays by half every 3 days', () => {
    const s = absorbEngagement(createEngagement(), T0, engagementWeights.click, HALF_LIFE);
    expect(engagementAt(s, T0, HALF_LIFE)).toBe(1);
    expect(engagementAt(s, T0 + 3 * DAY, HALF_LIFE)).toBeCloseTo(0.5, 12);
    expect(engagementAt(s, T0 + 6 * DAY, HALF_LIFE)).toBeCloseTo(0.25, 12);
  });

  it('sums the weights: conversion 5 + form 2 now, a click 3 d ago = 7.5', () => {
    let s = createEngagement();
    s = absorbEngagement(s, T0, engagementWeights.conversion, HALF_LIFE);
    s = absorbEngagement(s, T0, engagementWeights.form_interaction, HALF_LIFE);
    s = absorbEngagement(s, T0 - 3 * DAY, engagementWeights.click, HALF_LIFE); // out of order
    expect(engagementAt(s, T0, HALF_LIFE)).toBeCloseTo(7.5, 12);
    expect(engagementWeights.mouse_move).toBe(0);
  });

  it('does not depend on the order events are absorbed in', () => {
    const random = seededRandom(3);
    const types = Object.keys(engagementWeights) as (keyof typeof engagementWeights)[];
    const events = Array.from({ length: 40 }, () => ({
      ts: T0 + Math.floor(random() * 10 * DAY),
      w: engagementWeights[types[Math.floor(random() * types.length)] as keyof typeof engagementWeights],
    }));
    const now = T0 + 12 * DAY;
    const direct = events.reduce((sum, e) => sum + e.w * 2 ** (-(now - e.ts) / HALF_LIFE), 0);
    for (let round = 0; round < 5; round++) {
      const s = shuffle(events, random).reduce((st, e) => absorbEngagement(st, e.ts, e.w, HALF_LIFE), createEngagement());
      expect(engagementAt(s, now, HALF_LIFE)).toBeCloseTo(direct, 10);
      expect(engagementAt(s, now - HOUR, HALF_LIFE)).toBeCloseTo(direct * 2 ** (HOUR / HALF_LIFE), 10);
    }
  });
});

describe('page heatmap', () => {
  it('ranks elements by clicks, ties by element_id, with the share of the page', () => {
    expect(
      pageHeatmap([
        { element_id: 'nav', clicks: 3 },
        { element_id: 'buy', clicks: 5 },
        { element_id: 'footer', clicks: 1 },
        { element_id: 'logo', clicks: 3 },
      ]),
    ).toEqual([
      { element_id: 'buy', clicks: 5, fraction: 5 / 12, rank: 1 },
      { element_id: 'logo', clicks: 3, fraction: 3 / 12, rank: 2 },
      { element_id: 'nav', clicks: 3, fraction: 3 / 12, rank: 3 },
      { element_id: 'footer', clicks: 1, fraction: 1 / 12, rank: 4 },
    ]);
  });
});
