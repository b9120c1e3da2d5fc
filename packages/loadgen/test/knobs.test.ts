import { describe, expect, it } from 'vitest';
import type { GeneratedEvent } from '../src/generated-event.js';
import { HOUR, collect, groupBy } from './helpers.js';

// Each knob's share is checked within ±20 % of its value. With seed 32 and 50,000 events the
// shares fall within 0.90-1.14 of their values (0.92-1.09 with 100,000, at twice the time).
const events = 50_000;
const span = 2 * HOUR;

function shares(list: readonly GeneratedEvent[]) {
  const originals = list.filter((e) => !e.duplicate);
  // NAT users share an address in 198.18/15, botnet users one in 100.64/10.
  const natUsers = new Set(originals.filter((e) => e.event.ip?.startsWith('198.1')).map((e) => e.event.user_id));
  const floodUsers = new Set(
    originals
      .filter((e) => (e.validity === 'flood' && !natUsers.has(e.event.user_id)) || e.event.ip?.startsWith('100.'))
      .map((e) => e.event.user_id),
  );
  const humanClicks = originals.filter(
    (e) => e.event.type === 'click' && e.validity !== 'bot' && !floodUsers.has(e.event.user_id) && !natUsers.has(e.event.user_id),
  );
  return {
    duplicates: (list.length - originals.length) / list.length,
    bots: originals.filter((e) => e.validity === 'bot').length / originals.length,
    floods: originals.filter((e) => floodUsers.has(e.event.user_id)).length / originals.length,
    nats: originals.filter((e) => natUsers.has(e.event.user_id)).length / originals.length,
    late: originals.filter((e) => e.late).length / originals.length,
    outOfOrder: originals.filter((e) => e.outOfOrder && !e.late).length / originals.length,
    orphans: humanClicks.filter((e) => e.validity === 'orphan').length / humanClicks.length,
    tooFast: humanClicks.filter((e) => e.validity === 'too_fast').length / humanClicks.length,
    humanClicks: humanClicks.length,
  };
}

describe('hard-case knobs', () => {
  it('are all off by default: every event valid, in order, once', () => {
    const list = collect({ seed: 31, events: 50_000, span });
    const s = shares(list);
    expect(s).toMatchObject({ duplicates: 0, bots: 0, floods: 0, nats: 0, late: 0, outOfOrder: 0, orphans: 0, tooFast: 0 });
    expect(list.every((e) => e.validity === 'valid' && e.emitAt === e.event.ts)).toBe(true);
  });

  const cases = [
    ['bots', 0.1],
    ['floods', 0.05],
    ['nats', 0.05],
    ['late', 0.05],
    ['outOfOrder', 0.08],
    ['duplicates', 0.04],
    ['orphans', 0.1],
    ['tooFast', 0.1],
  ] as const;

  for (const [knob, value] of cases) {
    it(`${knob} = ${value} gives that share of labelled cases and nothing else`, () => {
      const s = shares(collect({ seed: 32, events, span, [knob]: value }));
      expect(s[knob]).toBeGreaterThan(value * 0.8);
      expect(s[knob]).toBeLessThan(value * 1.2);
      for (const [other] of cases) {
        if (other === knob) continue;
        expect(s[other], other).toBe(0);
      }
    });
  }

  it('mixes all knobs at once with each share near its value', () => {
    const knobs = { bots: 0.05, floods: 0.03, nats: 0.02, late: 0.03, outOfOrder: 0.05, duplicates: 0.02, orphans: 0.05, tooFast: 0.05 };
    const s = shares(collect({ seed: 33, events: 150_000, span: 3 * HOUR, ...knobs }));
    for (const [knob, value] of Object.entries(knobs)) {
      expect(s[knob as keyof typeof knobs], knob).toBeGreaterThan(value * 0.75);
      expect(s[knob as keyof typeof knobs], knob).toBeLessThan(value * 1.25);
    }
  });

  it('delays whole tails of journeys, in order within the user', () => {
    const list = collect({ seed: 34, events: 50_000, span, late: 0.05 });
    for (const [, user] of groupBy(list, (e) => e.event.user_id)) {
      const delays = user.map((e) => e.emitAt - e.event.ts);
      const firstDelayed = delays.findIndex((d) => d > 0);
      if (firstDelayed < 0) continue;
      // From the first held-back event on, every later event of the user is held back too.
      for (let i = firstDelayed; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(0);
      expect(Math.min(...delays.slice(firstDelayed))).toBeGreaterThanOrEqual(3 * 60_000);
    }
  });
});
