import { describe, expect, it } from 'vitest';
import { createIpState, createPartitionState, createUserState, defaultRuleSettings as settings, floodedIpClicks, processEvent } from '../src/index.js';
import type { EventKey } from '../src/index.js';
import { SECOND, T0, click, impression } from './helpers.js';

const NAT = '203.0.113.50';

/** 14 users behind one IP, each with a valid impression and, 3 s later, one click; clicks 2 s apart. */
function natTraffic() {
  return Array.from({ length: 14 }, (_, i) => ({
    user: `nat-${i}`,
    impression: impression({ id: `i${i}`, ts: T0 + i * 2 * SECOND, user: `nat-${i}`, ip: NAT }),
    click: click({ id: `k${String(i).padStart(2, '0')}`, ts: T0 + i * 2 * SECOND + 3 * SECOND, user: `nat-${i}`, ip: NAT }),
  }));
}

describe('IP flood across partitions', () => {
  it('truncated IP mode: clicks count by the keyed hash of the full address, not by the truncated one', () => {
    // Twelve clicks in a minute sharing the stored (truncated) address: twelve full addresses, no flood.
    const many = natTraffic().slice(0, 12).map((u, i) => ({ ts: u.click.ts, event_id: u.click.event_id, ip: '10.9.8.0', ip_key: `key-${i}` }));
    expect(floodedIpClicks(many, settings).size).toBe(0);
    // The same twelve behind one full address: the 11th and 12th are floods.
    const one = many.map((c) => ({ ...c, ip_key: 'key-same' }));
    expect([...floodedIpClicks(one, settings)].sort()).toEqual(['k10', 'k11']);
  });

  it('batch: the 11th to 14th click of one IP in a minute are floods, whatever the users', () => {
    const clicks = natTraffic().map((u) => ({ ts: u.click.ts, event_id: u.click.event_id, ip: NAT }));
    expect([...floodedIpClicks(clicks, settings)].sort()).toEqual(['k10', 'k11', 'k12', 'k13']);
    // Partitions play no part: the same clicks in any order give the same verdicts.
    expect([...floodedIpClicks([...clicks].reverse(), settings)].sort()).toEqual(['k10', 'k11', 'k12', 'k13']);
  });

  it('speed: a partition counts the clicks other partitions committed for the IP (ipElsewhere)', () => {
    // The users land in 4 partitions (user i in partition i % 4). Each partition has its own IP
    // state; when it processes a click, the others' earlier clicks are visible.
    const ipStates = [0, 1, 2, 3].map(() => createIpState());
    const reasons = new Map<string, string | null>();
    for (const [i, u] of natTraffic().entries()) {
      const own = i % 4;
      const elsewhere: EventKey[][] = ipStates.filter((_, p) => p !== own).map((s) => s.recentClicks);
      const user = createUserState();
      const partition = createPartitionState();
      processEvent({ user, partition, settings, isDuplicate: false, ip: ipStates[own] }, u.impression);
      const o = processEvent({ user, partition, settings, isDuplicate: false, ip: ipStates[own], ipElsewhere: elsewhere }, u.click);
      reasons.set(u.click.event_id, o.reason);
    }
    expect([...reasons].filter(([, r]) => r === 'flood').map(([id]) => id)).toEqual(['k10', 'k11', 'k12', 'k13']);
    expect([...reasons].filter(([, r]) => r !== 'flood').every(([, r]) => r === null)).toBe(true);
  });

  it("speed: without the other partitions' clicks (not committed yet) the IP is not a flood: exact up to arrival order", () => {
    const own = createIpState();
    let floods = 0;
    for (const u of natTraffic()) {
      const user = createUserState();
      processEvent({ user, settings, isDuplicate: false, ip: createIpState() }, u.impression);
      const o = processEvent({ user, settings, isDuplicate: false, ip: u.user.endsWith('-0') ? own : createIpState(), ipElsewhere: [] }, u.click);
      if (o.reason === 'flood') floods++;
    }
    expect(floods).toBe(0);
  });

  it("batch: a precomputed verdict (ipFlood) decides alone: the event's IP and the IP state are not read", () => {
    // The batch layer hands its views-only rules no IP columns (the verdict replaces them).
    const verdictOf = (ipFlood: boolean, withIp: boolean) => {
      const u = natTraffic()[0]!;
      const user = createUserState();
      const strip = <T extends { ip?: string }>(e: T): T => {
        const copy = { ...e };
        delete copy.ip;
        return copy;
      };
      processEvent({ user, settings, isDuplicate: false }, withIp ? u.impression : strip(u.impression));
      // An IP state that would count the click as the 11th of its IP: ignored beside a verdict.
      const ip = createIpState();
      ip.recentClicks.push(...Array.from({ length: 10 }, (_, i) => ({ ts: u.click.ts - 1_000 - i, event_id: `other-${i}` })).reverse());
      return processEvent({ user, settings, isDuplicate: false, ipFlood, ip }, withIp ? u.click : strip(u.click)).reason;
    };
    expect(verdictOf(true, false)).toBe('flood');
    expect(verdictOf(true, true)).toBe('flood');
    expect(verdictOf(false, true)).toBe(null);
    expect(verdictOf(false, false)).toBe(null);
  });
});
