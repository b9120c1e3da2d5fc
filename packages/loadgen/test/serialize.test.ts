import { describe, expect, it } from 'vitest';
import type { SigflowEvent } from '@sigflow/events';
import { serializeEvent } from '../src/serialize.js';
import { HOUR, allKnobs, collect } from './helpers.js';

describe('serializeEvent', () => {
  it('writes exactly what JSON.stringify writes for every generated event', () => {
    for (const ev of collect({ seed: 51, events: 20_000, span: 4 * HOUR, ...allKnobs })) {
      expect(ev.json).toBe(JSON.stringify(ev.event));
    }
  });

  it('falls back to JSON.stringify for strings that need escaping or unknown shapes', () => {
    const base = { event_id: 'e1', type: 'page_view', user_id: 'u1', ts: 5, ip: '10.0.0.1', user_agent: 'x', page_id: 'p' };
    const odd = [
      { ...base, page_id: 'say "hi"' },
      { ...base, user_agent: 'back\\slash' },
      { ...base, page_id: 'ünïcode' },
      { ...base, attrs: { a: 'b' } },
      { event_id: 'e2', type: 'conversion', user_id: 'u', ts: 1 },
    ] as unknown as SigflowEvent[];
    for (const e of odd) expect(serializeEvent(e)).toBe(JSON.stringify(e));
  });
});
