import { isbot } from 'isbot';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '@sigflow/events';
import { partitionOf } from '@sigflow/kafka';
import { generateEvents } from '../src/generate-events.js';
import type { GeneratedEvent } from '../src/generated-event.js';
import { botUserAgents, browserUserAgents } from '../src/user-agents.js';
import { HOUR, allKnobs, collect, groupBy, rules, start } from './helpers.js';

const fingerprint = (events: GeneratedEvent[]) =>
  events.map((e) => `${e.json}|${e.validity}|${e.duplicate}|${e.late}|${e.outOfOrder}|${e.partition}|${e.emitAt}`);

describe('generateEvents', () => {
  it('gives the same events, ids and labels for the same seed', () => {
    const options = { seed: 7, events: 20_000, span: 6 * HOUR, ...allKnobs };
    const a = collect(options);
    const b = collect(options);
    expect(a).toHaveLength(20_000);
    expect(fingerprint(a)).toEqual(fingerprint(b));
  });

  it('gives different events for a different seed', () => {
    const a = collect({ seed: 7, events: 5_000, span: HOUR });
    const b = collect({ seed: 8, events: 5_000, span: HOUR });
    const idsA = new Set(a.map((e) => e.event.event_id));
    expect(b.some((e) => idsA.has(e.event.event_id))).toBe(false);
    expect(a.map((e) => e.event.ts)).not.toEqual(b.map((e) => e.event.ts));
  });

  it('emits exactly the requested count, or rate x duration', () => {
    expect(collect({ events: 1_234, span: HOUR })).toHaveLength(1_234);
    expect([...generateEvents({ start, rules, partitions: 4, rate: 500, durationMs: 3_000 })]).toHaveLength(1_500);
  });

  it('makes every event valid against the event contract', () => {
    const events = collect({ seed: 3, events: 30_000, span: 6 * HOUR, ...allKnobs });
    const types = new Set<string>();
    for (const ev of events) {
      const check = validateEvent(ev.event, { now: start + 6 * HOUR, maxFutureMs: 24 * HOUR, retentionMs: 90 * 24 * HOUR });
      if (!check.ok) throw new Error(`${check.reason}: ${ev.json}`);
      expect(JSON.parse(ev.json)).toEqual(ev.event);
      types.add(ev.event.type);
    }
    expect([...types].sort()).toEqual(
      ['click', 'conversion', 'element_click', 'form_interaction', 'impression', 'link_follow', 'mouse_move', 'page_view', 'scroll'],
    );
  });

  it('keys events by user, on the partition the producers (Java-compatible) partitioner picks for that key', () => {
    for (const ev of collect({ seed: 4, events: 5_000, span: HOUR, floods: 0.2 })) {
      expect(ev.key).toBe(ev.event.user_id);
      expect(ev.partition).toBe(partitionOf(ev.event.user_id, 4));
    }
  });

  it('gives humans browser user agents and bots crawler ones that isbot recognises', () => {
    for (const ua of browserUserAgents) expect(isbot(ua), ua).toBe(false);
    for (const ua of botUserAgents) expect(isbot(ua), ua).toBe(true);
    for (const ev of collect({ seed: 5, events: 10_000, span: HOUR, bots: 0.2 })) {
      expect(isbot(ev.event.user_agent ?? '')).toBe(ev.validity === 'bot');
    }
  });

  it('emits in emission order: a clock that never goes back, ts never after emission, users in ts order', () => {
    const events = collect({ seed: 6, events: 30_000, span: 6 * HOUR, ...allKnobs });
    let clock = -Infinity;
    events.forEach((ev, i) => {
      expect(ev.seq).toBe(i);
      expect(ev.emitAt).toBeGreaterThanOrEqual(clock);
      expect(ev.event.ts).toBeLessThanOrEqual(ev.emitAt);
      clock = ev.emitAt;
    });
    for (const [, list] of groupBy(
      events.filter((e) => !e.duplicate),
      (e) => e.event.user_id,
    )) {
      for (let i = 1; i < list.length; i++) expect(list[i]!.event.ts).toBeGreaterThan(list[i - 1]!.event.ts);
    }
  });

  it('gives each user one IP, shared only by the users of a botnet or a NAT', () => {
    const events = collect({ seed: 8, events: 30_000, span: 6 * HOUR, ...allKnobs });
    const usersByIp = groupBy(events, (e) => e.event.ip);
    for (const [ip, list] of usersByIp) {
      const users = new Set(list.map((e) => e.event.user_id));
      if (users.size > 1) expect(ip).toMatch(/^(100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.|198\.1[89]\.)/);
    }
    for (const [, list] of groupBy(events, (e) => e.event.user_id)) {
      expect(new Set(list.map((e) => e.event.ip)).size).toBe(1);
    }
  });

  it('keeps the CTR of every ad between 0.5 % and 5 % on a large run', () => {
    const impressions = new Map<string, number>();
    const clicks = new Map<string, number>();
    for (const ev of generateEvents({ seed: 11, events: 400_000, start, rules, partitions: 4, span: 24 * HOUR, campaigns: 3 })) {
      const e = ev.event;
      if (e.type === 'impression') impressions.set(e.ad_id, (impressions.get(e.ad_id) ?? 0) + 1);
      if (e.type === 'click') clicks.set(e.ad_id, (clicks.get(e.ad_id) ?? 0) + 1);
    }
    expect(impressions.size).toBe(12);
    for (const [ad, shown] of impressions) {
      const ctr = (clicks.get(ad) ?? 0) / shown;
      expect(ctr, ad).toBeGreaterThan(0.005);
      expect(ctr, ad).toBeLessThan(0.05);
    }
  });

  it('rejects options out of range with the name of the option', () => {
    expect(() => generateEvents({ rules, partitions: 4, bots: 1.5 })).toThrow(/bots/);
    expect(() => generateEvents({ rules, partitions: 4, late: 0.4, outOfOrder: 0.4 })).toThrow(/late \+ outOfOrder/);
    expect(() => generateEvents({ rules, partitions: 4, events: -1 })).toThrow(/events/);
    expect(() => generateEvents({ rules, partitions: 0 })).toThrow(/partitions/);
  });
});
