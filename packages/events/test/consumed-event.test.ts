import { describe, expect, it } from 'vitest';
import { consumedEventProblem } from '../src/consumed-event.js';
import { validateEvent } from '../src/index.js';
import { NOW, oneOfEachType } from './fixtures.js';

const received = (e: object) => ({ ...e, received_at: NOW });

describe('the structure consumers check (decodeEvent)', () => {
  it('accepts every event the contract accepts', () => {
    for (const event of oneOfEachType()) {
      expect(validateEvent(event).ok).toBe(true);
      expect(consumedEventProblem(received(event)), event.type).toBeNull();
    }
  });

  // Each breaks what processing or the key layout relies on; the contract refuses it too.
  const breakages: [string, (e: Record<string, unknown>) => void, RegExp][] = [
    ['ts as a string', (e) => (e['ts'] = '1700000000000'), /ts must be a non-negative integer/],
    ['a fractional ts', (e) => (e['ts'] = 1.5), /ts must be a non-negative integer/],
    ['no user_id', (e) => delete e['user_id'], /missing required field user_id/],
    ['a tab in campaign_id', (e) => (e['campaign_id'] = 'c\t1'), /campaign_id has characters/],
    ['a newline in event_id', (e) => (e['event_id'] = 'e\n1'), /event_id has characters/],
    ['an empty ad_id', (e) => (e['ad_id'] = ''), /ad_id must be a string of 1 to/],
    ['ad_id as a number', (e) => (e['ad_id'] = 7), /ad_id must be a string/],
    ['no channel', (e) => delete e['channel'], /missing required field channel/],
    ['an unknown type', (e) => (e['type'] = 'purchase'), /unknown event type "purchase"/],
    ['attrs holding a number', (e) => (e['attrs'] = { a: 1 }), /attrs must be an object of strings/],
    ['a negative received_at', (e) => (e['received_at'] = -1), /received_at must be a non-negative integer/],
    ['a fractional cost', (e) => (e['cost'] = 2.5), /^cost must be an integer number of micros from 0 to 1000000000000 \(got 2.5\)$/],
    ['a cost over 1e12', (e) => (e['cost'] = 1e12 + 1), /^cost must be an integer number of micros from 0 to 1000000000000/],
    ['a cost as a string', (e) => (e['cost'] = '100'), /^cost must be an integer number of micros .* \(got "100"\)$/],
  ];
  for (const [what, breakIt, reason] of breakages) {
    it(`refuses ${what}, as the contract does`, () => {
      const [impression] = oneOfEachType();
      const event = received(impression!) as Record<string, unknown>;
      breakIt(event);
      expect(consumedEventProblem(event)).toMatch(reason);
      expect(validateEvent(event).ok).toBe(false);
    });
  }

  it('refuses per type what each type needs', () => {
    const byType = new Map(oneOfEachType().map((e) => [e.type, received(e) as Record<string, unknown>]));
    const cases: [string, string, unknown, RegExp][] = [
      ['conversion', 'value', 'ten', /value must be a non-negative number/],
      ['element_click', 'element_id', undefined, /missing required field element_id/],
      ['page_view', 'page_id', undefined, /missing required field page_id/],
      ['scroll', 'depth', null, /depth must be a non-negative number/],
      ['form_interaction', 'action', 'type', /action must be one of/],
      ['link_follow', 'href', 3, /href must be a string/],
      ['mouse_move', 'y', Number.NaN, /y must be a non-negative number/],
    ];
    for (const [type, field, value, reason] of cases) {
      const event = { ...byType.get(type as never)! };
      if (value === undefined) delete event[field];
      else event[field] = value;
      expect(consumedEventProblem(event), `${type}.${field}`).toMatch(reason);
    }
  });
});
