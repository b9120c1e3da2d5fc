import { isbot } from 'isbot';
import { describe, expect, it } from 'vitest';
import { floodFlags } from '../src/flood-truth.js';
import { generateEvents, lateMarginMs } from '../src/generate-events.js';
import type { GeneratedEvent, Validity } from '../src/generated-event.js';
import { TruthRecorder } from '../src/truth.js';
import { HOUR, allKnobs, byTsThenId, groupBy, rules, start } from './helpers.js';

type Touch = GeneratedEvent & { event: { campaign_id: string; ad_id: string } };

/**
 * The validity each event must have per DESIGN.md, recomputed from the stream in event time
 * (the reference the labels are checked against).
 */
function expectedValidity(events: readonly GeneratedEvent[]): Map<GeneratedEvent, Validity> {
  const originals = events.filter((e) => !e.duplicate);
  const expected = new Map<GeneratedEvent, Validity>();
  const clicks = originals.filter((e) => e.event.type === 'click') as Touch[];
  const flooded = new Set<GeneratedEvent>();
  for (const key of [(e: Touch) => e.event.user_id, (e: Touch) => e.event.ip ?? '']) {
    for (const [, list] of groupBy(clicks, key)) {
      list.sort(byTsThenId);
      let from = 0;
      list.forEach((click, i) => {
        while (list[from]!.event.ts < click.event.ts - rules.floodWindowMs) from++;
        if (i - from + 1 > rules.floodThreshold) flooded.add(click);
      });
    }
  }
  const validImpressions = groupBy(
    originals.filter((e) => e.event.type === 'impression' && !isbot(e.event.user_agent ?? '')) as Touch[],
    (e) => `${e.event.user_id}|${e.event.ad_id}`,
  );
  for (const ev of originals) {
    const e = ev.event;
    if (isbot(e.user_agent ?? '')) expected.set(ev, 'bot');
    else if (e.type !== 'click') expected.set(ev, 'valid');
    else if (flooded.has(ev)) expected.set(ev, 'flood');
    else {
      const seen = (validImpressions.get(`${e.user_id}|${e.ad_id}`) ?? []).filter(
        (imp) => imp.event.ts <= e.ts && imp.event.ts >= e.ts - rules.joinWindowMs,
      );
      if (seen.length === 0) expected.set(ev, 'orphan');
      else {
        const latest = Math.max(...seen.map((imp) => imp.event.ts));
        expected.set(ev, e.ts - latest < rules.tooFastMs ? 'too_fast' : 'valid');
      }
    }
  }
  return expected;
}

/** A botnet's (100.64/10) or a NAT's (198.18/15) address, shared by several users. */
const sharedIp = (e: GeneratedEvent) => /^(100\.|198\.1[89]\.)/.test(e.event.ip ?? '');

/** The clicks of one shared IP: from every partition, the first `floodThreshold` labelled `first`, then `flood`. */
function expectCrowdClicks(list: GeneratedEvent[], first: Validity): void {
  expect(new Set(list.map((e) => e.partition))).toEqual(new Set([0, 1, 2, 3]));
  list.sort(byTsThenId);
  list.forEach((c, i) => expect(c.validity).toBe(i < rules.floodThreshold ? first : 'flood'));
}

describe('labels', () => {
  const stream = generateEvents({ seed: 21, events: 60_000, start, rules, partitions: 4, span: 8 * HOUR, ...allKnobs });
  const events = [...stream];
  const originals = events.filter((e) => !e.duplicate);

  it('match the rules recomputed in event time (bot, flood, orphan, too_fast, in that order)', () => {
    const expected = expectedValidity(events);
    const mismatches = originals.filter((ev) => expected.get(ev) !== ev.validity);
    expect(mismatches.map((ev) => `${ev.json} labelled ${ev.validity}, expected ${expected.get(ev)}`)).toEqual([]);
    const reasons = new Set(originals.map((e) => e.validity));
    expect([...reasons].sort()).toEqual(['bot', 'flood', 'orphan', 'too_fast', 'valid']);
  });

  it('keep legit clicks clear of the rules and injected ones unambiguous', () => {
    const impressionsOf = groupBy(
      originals.filter((e) => e.event.type === 'impression') as Touch[],
      (e) => `${e.event.user_id}|${e.event.ad_id}`,
    );
    const latestBefore = (click: Touch) =>
      Math.max(...(impressionsOf.get(`${click.event.user_id}|${click.event.ad_id}`) ?? []).map((i) => i.event.ts).filter((ts) => ts <= click.event.ts));
    for (const click of originals.filter((e) => e.event.type === 'click') as Touch[]) {
      const gap = click.event.ts - latestBefore(click);
      if (click.validity === 'valid') {
        expect(gap).toBeGreaterThanOrEqual(1_500);
        expect(gap).toBeLessThanOrEqual(rules.joinWindowMs);
      }
      if (click.validity === 'too_fast') {
        expect(gap).toBeGreaterThanOrEqual(0.2 * rules.tooFastMs - 1);
        expect(gap).toBeLessThanOrEqual(0.8 * rules.tooFastMs + 1);
      }
      // No impression of that ad at all before an orphan click.
      if (click.validity === 'orphan') expect(gap).toBe(Infinity);
    }
    // Fewer than floodThreshold + 1 clicks of a legit user within a flood window.
    const humans = groupBy(
      originals.filter((e) => e.event.type === 'click' && e.validity !== 'bot'),
      (e) => e.event.user_id,
    );
    for (const [, list] of humans) {
      if (list.some((c) => c.validity === 'flood')) continue;
      list.sort(byTsThenId);
      list.forEach((c, i) => {
        const inWindow = list.slice(0, i + 1).filter((d) => d.event.ts >= c.event.ts - rules.floodWindowMs);
        expect(inWindow.length).toBeLessThan(rules.floodThreshold);
      });
    }
  });

  it('flood a user with valid clicks 1-10 then floods, and an IP from every partition with orphans then floods', () => {
    const clicksByUser = groupBy(
      originals.filter((e) => e.event.type === 'click'),
      (e) => e.event.user_id,
    );
    let userFloods = 0;
    for (const [, list] of clicksByUser) {
      if (!list.some((c) => c.validity === 'flood') || sharedIp(list[0]!)) continue;
      userFloods++;
      list.sort(byTsThenId);
      list.forEach((c, i) => expect(c.validity).toBe(i < rules.floodThreshold ? 'valid' : 'flood'));
    }
    expect(userFloods).toBeGreaterThan(5);
    const botnets = groupBy(
      originals.filter((e) => e.event.ip!.startsWith('100.')),
      (e) => e.event.ip,
    );
    expect(botnets.size).toBeGreaterThan(5);
    for (const [, list] of botnets) {
      expect(new Set(list.map((e) => e.event.user_id)).size).toBeGreaterThan(2);
      expectCrowdClicks(list, 'orphan');
    }
  });

  it('mark late exactly by the partition watermark, never within 2 s of the boundary', () => {
    const maxTs = new Map<number, number>();
    let late = 0;
    for (const ev of events) {
      const max = maxTs.get(ev.partition) ?? -Infinity;
      const watermark = max - rules.watermarkDelayMs;
      const ts = ev.event.ts;
      const closes = ts - (ts % rules.windowMs) + rules.windowMs + rules.allowedLatenessMs;
      expect(ev.late).toBe(closes < watermark);
      expect(ev.outOfOrder).toBe(ts < max);
      expect(Math.abs(closes - watermark)).toBeGreaterThanOrEqual(lateMarginMs);
      if (ev.late && !ev.duplicate) late++;
      maxTs.set(ev.partition, Math.max(max, ts));
    }
    expect(late).toBeGreaterThan(0);
    expect(stream.stats.marginViolations).toBe(0);
  });

  it('never make events only slightly behind (out of order, re-sent copies) late', () => {
    const slightlyBehind = events.filter((e) => e.emitAt - e.event.ts <= 30_000 && e.emitAt > e.event.ts);
    expect(slightlyBehind.length).toBeGreaterThan(100);
    for (const ev of slightlyBehind) expect(ev.late).toBe(false);
  });

  it('re-send duplicates as exact copies, later, of an event already sent', () => {
    const first = new Map<string, GeneratedEvent>();
    let copies = 0;
    for (const ev of events) {
      const original = first.get(ev.event.event_id);
      if (original) {
        copies++;
        expect(ev.duplicate).toBe(true);
        expect(ev.json).toBe(original.json);
        expect(ev.validity).toBe(original.validity);
        expect(ev.seq).toBeGreaterThan(original.seq);
      } else {
        expect(ev.duplicate).toBe(false);
        first.set(ev.event.event_id, ev);
      }
    }
    expect(copies).toBeGreaterThan(0);
  });

  it('never give two events of one user the same ts', () => {
    for (const [, list] of groupBy(originals, (e) => e.event.user_id)) {
      expect(new Set(list.map((e) => e.event.ts)).size).toBe(list.length);
    }
  });
});

describe('IP crowds (NATs and botnets) under normal traffic', () => {
  const options = { seed: 23, events: 40_000, start, rules, partitions: 4, span: 4 * HOUR, nats: 0.05, floods: 0.05, botnetUsers: 50 };
  const stream = generateEvents(options);
  const truth = new TruthRecorder(stream);
  const events = [...stream].filter((e) => !e.duplicate);
  for (const ev of events) truth.record(ev);
  const clicks = events.filter((e) => e.event.type === 'click');
  const byIp = groupBy(clicks.filter(sharedIp), (e) => e.event.ip!);
  const nats = [...byIp].filter(([ip]) => ip.startsWith('198.'));
  const botnets = [...byIp].filter(([ip]) => ip.startsWith('100.'));

  it('puts a NAT\'s people on every partition, one click each within a minute: 1-10 valid, then flood', () => {
    expect(nats.length).toBeGreaterThan(5);
    for (const [, list] of nats) {
      const users = new Set(list.map((e) => e.event.user_id));
      expect(users.size).toBe(list.length);
      expect(users.size).toBeGreaterThanOrEqual(rules.floodThreshold + 4);
      expectCrowdClicks(list, 'valid');
      expect(list.at(-1)!.event.ts - list[0]!.event.ts).toBeLessThanOrEqual(rules.floodWindowMs);
    }
  });

  it('gives a botnet of 50 users on one IP, every user clicking, on every partition', () => {
    expect(botnets.length).toBeGreaterThan(5);
    for (const [, list] of botnets) {
      expect(new Set(list.map((e) => e.event.user_id)).size).toBe(50);
      expectCrowdClicks(list, 'orphan');
    }
  });

  it('has the labels, the truth and a recount agree, and a per-partition count miss NAT floods', () => {
    const expected = expectedValidity(events);
    const verdicts = truth.clickVerdicts();
    for (const ev of events) {
      expect(ev.validity, ev.json).toBe(expected.get(ev));
      if (ev.event.type === 'click') expect(verdicts.get(ev.event.event_id), ev.json).toBe(ev.validity);
    }
    // Counting each partition's clicks apart finds none of a NAT's floods (7-8 clicks a partition).
    const asFloodClicks = (list: GeneratedEvent[]) => list.map((e) => ({ ts: e.event.ts, eventId: e.event.event_id, userId: e.event.user_id, ip: e.event.ip }));
    const natFloods = nats.reduce((n, [, list]) => n + list.filter((e) => e.validity === 'flood').length, 0);
    expect(truth.totals().cross_partition_floods.valid).toBe(natFloods);
    for (const [, list] of nats) {
      const perPartition = [...groupBy(list, (e) => e.partition).values()].map((part) => floodFlags(asFloodClicks(part), rules.floodThreshold, rules.floodWindowMs));
      expect(perPartition.every((flags) => flags.every((f) => f === 0))).toBe(true);
      expect(list.filter((e) => e.validity === 'flood').length).toBeGreaterThan(0);
    }
  });
});
