import { describe, expect, it } from 'vitest';
import { attributeConversion, defaultRuleSettings as settings, parseShapleyTable, trainShapleyTable, type ShapleyTable, type Touchpoint } from '../src/index.js';
import { InvalidShapleyTableError } from '../src/errors/invalid-shapley-table-error.js';
import { channelSetKey } from '../src/attribution/channel-set.js';
import { shapleyChannelCredit, shapleyValues } from '../src/attribution/shapley.js';
import { HOUR, T0 } from './helpers.js';

const table = (values: Record<string, number>): ShapleyTable => ({ version: 'test-v1', values });

function touch(id: string, hoursBefore: number, channel: string): Touchpoint {
  return { event_id: id, ts: T0 - hoursBefore * HOUR, type: 'impression', campaign_id: 'c', ad_id: 'a', channel };
}

describe('channel set key', () => {
  it('is the distinct channels sorted and joined with +; empty set is ""', () => {
    expect(channelSetKey(['search', 'display', 'search'])).toBe('display+search');
    expect(channelSetKey([])).toBe('');
  });
});

describe('Shapley values (hand-computed)', () => {
  it('2 channels: v(a)=0.2, v(b)=0.1, v(ab)=0.5', () => {
    // phi_a = 1/2 (0.2 - 0) + 1/2 (0.5 - 0.1) = 0.3
    // phi_b = 1/2 (0.1 - 0) + 1/2 (0.5 - 0.2) = 0.2 -> credits 0.6 / 0.4
    const t = table({ a: 0.2, b: 0.1, 'a+b': 0.5 });
    const phi = shapleyValues(['a', 'b'], t);
    expect(phi.get('a')).toBeCloseTo(0.3, 12);
    expect(phi.get('b')).toBeCloseTo(0.2, 12);
    const { credit, fallback } = shapleyChannelCredit(['b', 'a'], t);
    expect(credit.get('a')).toBeCloseTo(0.6, 12);
    expect(credit.get('b')).toBeCloseTo(0.4, 12);
    expect(fallback).toBeNull();
  });

  it('3 channels', () => {
    // Weights: |T|=0: 0!2!/3! = 1/3, |T|=1: 1!1!/3! = 1/6, |T|=2: 2!0!/3! = 1/3.
    // v: a .1, b .2, c 0, ab .4, ac .2, bc .3, abc .6
    // phi_a = 1/3(.1) + 1/6(.4-.2) + 1/6(.2-0) + 1/3(.6-.3) = .0333 + .0333 + .0333 + .1 = .2
    // phi_b = 1/3(.2) + 1/6(.4-.1) + 1/6(.3-0) + 1/3(.6-.2) = .0667 + .05 + .05 + .1333 = .3
    // phi_c = 1/3(0)  + 1/6(.2-.1) + 1/6(.3-.2) + 1/3(.6-.4) = 0 + .0167 + .0167 + .0667 = .1
    // sum .6 = v(abc); credits 1/3, 1/2, 1/6
    const t = table({ a: 0.1, b: 0.2, 'a+b': 0.4, 'a+c': 0.2, 'b+c': 0.3, 'a+b+c': 0.6 }); // v(c) missing = 0
    const phi = shapleyValues(['a', 'b', 'c'], t);
    expect(phi.get('a')).toBeCloseTo(0.2, 12);
    expect(phi.get('b')).toBeCloseTo(0.3, 12);
    expect(phi.get('c')).toBeCloseTo(0.1, 12);
    const { credit } = shapleyChannelCredit(['a', 'b', 'c'], t);
    expect(credit.get('a')).toBeCloseTo(1 / 3, 12);
    expect(credit.get('b')).toBeCloseTo(1 / 2, 12);
    expect(credit.get('c')).toBeCloseTo(1 / 6, 12);
  });

  it('clamps a negative contribution at 0', () => {
    // phi_a = 1/2 (.4) + 1/2 (.2 - .1) = .25 ; phi_b = 1/2 (.1) + 1/2 (.2 - .4) = -.05 -> 0
    const t = table({ a: 0.4, b: 0.1, 'a+b': 0.2 });
    expect(shapleyValues(['a', 'b'], t).get('b')).toBeCloseTo(-0.05, 12);
    const { credit } = shapleyChannelCredit(['a', 'b'], t);
    expect(credit.get('a')).toBe(1);
    expect(credit.get('b')).toBe(0);
  });

  it('an empty table splits equally over the channels (clamped sum 0)', () => {
    const { credit, fallback } = shapleyChannelCredit(['a', 'b', 'c'], table({}));
    expect([...credit.values()]).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(fallback).toBeNull();
  });

  it('without a table: equal split over channels, recorded as fallback no_table with version null', () => {
    const path = [touch('t1', 3, 'search'), touch('t2', 2, 'search'), touch('t3', 1, 'email')];
    const r = attributeConversion(path, { ts: T0, event_id: 'v' }, { settings });
    expect(r.shapleyVersion).toBeNull();
    expect(r.shapleyFallback).toBe('no_table');
    // email 1/2 on one touch; search 1/2 over two touches.
    expect(r.credits.shapley.map((c) => c.fraction)).toEqual([0.25, 0.25, 0.5]);
  });

  it("splits a channel's credit equally over its touchpoints and records the table version", () => {
    const path = [touch('t1', 3, 'a'), touch('t2', 2, 'b'), touch('t3', 1, 'a')];
    const r = attributeConversion(path, { ts: T0, event_id: 'v', value: 100 }, { settings, shapley: table({ a: 0.2, b: 0.1, 'a+b': 0.5 }) });
    expect(r.shapleyVersion).toBe('test-v1');
    const f = r.credits.shapley.map((c) => c.fraction);
    expect(f[0]).toBeCloseTo(0.3, 12); // a: 0.6 / 2
    expect(f[1]).toBeCloseTo(0.4, 12); // b
    expect(f[2]).toBeCloseTo(0.3, 12);
    expect(r.credits.shapley[1]?.revenue).toBeCloseTo(40, 10);
  });
});

describe('training v(S)', () => {
  it('v(S) = converted / users with exposure set exactly S; users without touchpoints are left out', () => {
    const t = trainShapleyTable(
      [
        { channels: ['search'], converted: true },
        { channels: ['search'], converted: false },
        { channels: ['search', 'search'], converted: false },
        { channels: ['search', 'display'], converted: true },
        { channels: ['display'], converted: false },
        { channels: [], converted: true },
      ],
      'shapley-2025-11-03',
    );
    expect(t).toEqual({ version: 'shapley-2025-11-03', values: { display: 0, 'display+search': 1, search: 1 / 3 } });
    expect(parseShapleyTable(JSON.parse(JSON.stringify(t)))).toEqual(t);
  });

  it('rejects tables that are not usable', () => {
    expect(() => parseShapleyTable({ values: {} })).toThrow(InvalidShapleyTableError);
    expect(() => parseShapleyTable({ version: 'v', values: { 'search+display': 0.1 } })).toThrow(/canonical/);
    expect(() => parseShapleyTable({ version: 'v', values: { search: 1.5 } })).toThrow(/\[0, 1\]/);
  });
});
