import type { ReceivedEvent } from '@sigflow/events';
import { describe, expect, it } from 'vitest';
import { compareEventKeys, createUserState, defaultRuleSettings as settings, floodedIpClicks, foldOutcomes, pickFirstCopies, processBatch, trainShapleyTable, type EventOutcome, type UserState } from '../src/index.js';
import { compareUserEventOrder } from '../src/ordering/event-order.js';
import {
  DAY,
  GOOGLEBOT_UA,
  MINUTE,
  SECOND,
  T0,
  click,
  conversion,
  elementClick,
  impression,
  pageView,
  runSpeed,
  seededRandom,
  type Arrival,
} from './helpers.js';

const ads = [
  { ad: 'a1', campaign: 'c1', channel: 'search' },
  { ad: 'a2', campaign: 'c1', channel: 'display' },
  { ad: 'a3', campaign: 'c2', channel: 'social' },
  { ad: 'a4', campaign: 'c2', channel: 'email' },
];

const shapley = trainShapleyTable(
  [
    { channels: ['search'], converted: true },
    { channels: ['search'], converted: false },
    { channels: ['display'], converted: false },
    { channels: ['search', 'display'], converted: true },
    { channels: ['social', 'email'], converted: true },
    { channels: ['email'], converted: false },
    { channels: ['email'], converted: true },
  ],
  'test-table',
);

/** One user's events in (ts, event_id) order: touchpoints, bursts, ties, gaps, bots, web events. */
function userStream(user: string, ip: string | undefined, random: () => number): ReceivedEvent[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)] as T;
  const events: ReceivedEvent[] = [];
  let ts = T0 + Math.floor(random() * 2 * MINUTE);
  let seq = 0;
  let lastAd = pick(ads);
  const id = () => `${user}-${(seq++).toString(36).padStart(3, '0')}-${Math.floor(random() * 1e6).toString(36)}`;
  const base = () => ({
    id: id(),
    ts,
    user,
    received_at: ts + Math.floor(random() * 500),
    ...(ip !== undefined ? { ip } : {}),
    ...(random() < 0.03 ? { ua: GOOGLEBOT_UA } : {}),
  });
  for (let i = 0; i < 120; i++) {
    const step = random();
    if (step < 0.1) ts += 0; // same ts: event_id decides the order
    else if (step < 0.9) ts += Math.floor(random() * 20 * SECOND);
    else if (step < 0.98) ts += 31 * MINUTE + Math.floor(random() * 30 * MINUTE); // new session
    else ts += 8 * DAY; // beyond the attribution lookback
    const kind = random();
    if (kind < 0.25) {
      lastAd = pick(ads);
      events.push(impression({ ...base(), ...lastAd }));
    } else if (kind < 0.45) {
      events.push(click({ ...base(), ...(random() < 0.8 ? lastAd : pick(ads)) }));
    } else if (kind < 0.48) {
      // A burst of clicks: floods the user (and its IP).
      for (let k = 0; k < 12; k++) {
        ts += 500;
        events.push(click({ ...base(), ...lastAd }));
      }
    } else if (kind < 0.58) {
      events.push(conversion({ ...base(), ...(random() < 0.7 ? { value: Math.floor(random() * 100) } : {}) }));
    } else if (kind < 0.75) {
      events.push(elementClick({ ...base(), page: pick(['home', 'pricing']), element: pick(['buy', 'nav', 'logo']) }));
    } else if (kind < 0.9) {
      events.push(pageView({ ...base(), page: pick(['home', 'pricing']) }));
    } else {
      const b = base();
      events.push({ event_id: b.id, user_id: user, ts, received_at: b.received_at, type: 'scroll', page_id: 'home', depth: 50 });
    }
  }
  return events.sort(compareEventKeys);
}

/**
 * Arrival order for one partition: IP groups (users sharing an IP, so each IP's clicks arrive
 * in order too) interleaved at random, never more than `skewMs` ahead of the slowest group, so
 * nothing is late; plus duplicate copies arriving later.
 */
function arrivalOrder(groups: ReceivedEvent[][], random: () => number, skewMs: number): { arrivals: Arrival[]; duplicates: number } {
  const heads = groups.map(() => 0);
  const out: ReceivedEvent[] = [];
  const pending: { at: number; event: ReceivedEvent }[] = [];
  for (;;) {
    const open = groups.map((g, i) => ({ g, i })).filter(({ g, i }) => (heads[i] as number) < g.length);
    if (open.length === 0) break;
    const minHead = Math.min(...open.map(({ g, i }) => (g[heads[i] as number] as ReceivedEvent).ts));
    const ready = open.filter(({ g, i }) => (g[heads[i] as number] as ReceivedEvent).ts <= minHead + skewMs);
    const { g, i } = ready[Math.floor(random() * ready.length)] as (typeof ready)[number];
    const event = g[heads[i] as number] as ReceivedEvent;
    heads[i] = (heads[i] as number) + 1;
    out.push(event);
    if (random() < 0.03) {
      // A later copy; sometimes stamped earlier by another collector (the batch layer keeps that one).
      const received_at = event.received_at + (random() < 0.5 ? 1000 : -1);
      pending.push({ at: out.length + Math.floor(random() * 20), event: { ...event, received_at } });
    }
    for (let j = pending.length - 1; j >= 0; j--) {
      if ((pending[j] as (typeof pending)[number]).at <= out.length) out.push(...pending.splice(j, 1).map((p) => p.event));
    }
  }
  out.push(...pending.map((p) => p.event));
  return { arrivals: out.map((event, offset) => ({ event, offset })), duplicates: out.length - new Set(out.map((e) => e.event_id)).size };
}

function partitionData(seed: number) {
  const random = seededRandom(seed);
  const groups: ReceivedEvent[][] = [];
  let u = 0;
  for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3', undefined]) {
    const users = Array.from({ length: 3 }, () => userStream(`user${u++}`, ip, random));
    groups.push(users.flat().sort(compareEventKeys));
  }
  return { groups, ...arrivalOrder(groups, random, 30 * SECOND) };
}

const stateByUser = (users: Map<string, UserState>) => Object.fromEntries([...users].sort(([a], [b]) => (a < b ? -1 : 1)));

describe('speed (arrival order) == batch (sorted by user, ts, event_id) on in-order data', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: same outcomes, same final user state, same view deltas`, () => {
      const { arrivals, duplicates } = partitionData(seed);
      const speed = runSpeed(arrivals, { shapley, jsonRoundTrip: true });
      const firstCopies = pickFirstCopies(arrivals.map((a) => ({ ...a, received_at: a.event.received_at, event_id: a.event.event_id }))).first;
      const batch = processBatch(
        firstCopies.map((a) => a.event),
        { settings, shapley },
      );

      // The interleaving is in order per user and per IP and never late.
      expect(speed.outcomes.some((o) => o.late)).toBe(false);
      expect(speed.outcomes.filter((o) => o.status === 'duplicate')).toHaveLength(duplicates);

      const speedSorted = speed.outcomes.filter((o) => o.status !== 'duplicate').sort(compareUserEventOrder);
      expect(speedSorted).toEqual(batch.outcomes);
      expect(stateByUser(speed.users)).toEqual(stateByUser(batch.users));

      // Aggregated in their own orders, the views agree (credits are floats: summed in another order).
      const s = foldOutcomes(speed.outcomes);
      const b = foldOutcomes(batch.outcomes);
      expect(s.windowMetrics).toEqual(b.windowMetrics);
      expect(s.heatmap).toEqual(b.heatmap);
      expect(s.invalidTraffic).toEqual(b.invalidTraffic);
      expect(s.counts).toEqual({ ...b.counts, duplicates });
      expect(s.attribution.map((r) => ({ ...r, conversions: 0, revenue: 0 }))).toEqual(
        b.attribution.map((r) => ({ ...r, conversions: 0, revenue: 0 })),
      );
      s.attribution.forEach((r, i) => {
        expect(r.conversions).toBeCloseTo(b.attribution[i]?.conversions ?? NaN, 9);
        expect(r.revenue).toBeCloseTo(b.attribution[i]?.revenue ?? NaN, 6);
      });

      // The data exercises every rule, both flood keys, attribution and sessions.
      const reasons = new Set(batch.outcomes.map((o) => o.reason));
      expect([...reasons].sort()).toEqual(['bot', 'flood', 'orphan', 'too_fast', null].sort());
      expect(floodedIpClicks(firstCopies.map((a) => a.event).filter((e) => e.type === 'click'), settings).size).toBeGreaterThan(0);
      const attributed = batch.outcomes.filter((o): o is EventOutcome & { attribution: object } => o.attribution !== null);
      expect(attributed.filter((o) => o.attribution.pathLength > 1).length).toBeGreaterThan(5);
      expect(attributed.some((o) => o.attribution.pathLength === 0)).toBe(true);
      expect(batch.outcomes.filter((o) => o.session?.kind === 'created').length).toBeGreaterThan(12);
    });
  }

  it('is a sensitive comparison: breaking one user’s order changes the outcomes', () => {
    const { arrivals } = partitionData(1);
    const firstCopies = pickFirstCopies(arrivals.map((a) => ({ ...a, received_at: a.event.received_at, event_id: a.event.event_id }))).first;
    const events = firstCopies.map((a) => a.event);
    // Move user0's first click to the very end of the arrival order.
    const k = events.findIndex((e) => e.user_id === 'user0' && e.type === 'click');
    const reordered = [...events.slice(0, k), ...events.slice(k + 1), events[k] as ReceivedEvent];
    const speed = runSpeed(reordered, { shapley }).outcomes.sort(compareUserEventOrder);
    expect(speed).not.toEqual(processBatch(events, { settings, shapley }).outcomes);
  });

  it('viewsOnly (the batch recompute\'s hour views): the same verdicts, joins and view rows, none of the state no view reads', () => {
    for (const seed of [1, 2, 3]) {
      const { arrivals } = partitionData(seed);
      const events = pickFirstCopies(arrivals.map((a) => ({ ...a, received_at: a.event.received_at, event_id: a.event.event_id }))).first.map((a) => a.event);
      const full = processBatch(events, { settings, shapley });
      const views = processBatch(events, { settings, shapley, viewsOnly: true });

      expect(views.outcomes.every((o) => o.signal === null && o.session === null)).toBe(true);
      expect(views.outcomes).toEqual(full.outcomes.map((o) => ({ ...o, signal: null, session: null })));
      // Every view, attribution to the last bit included: the same rows summed in the same order.
      expect(foldOutcomes(views.outcomes)).toEqual(foldOutcomes(full.outcomes));
      for (const [user, state] of full.users) {
        const lean = views.users.get(user) as UserState;
        const { maxTs, recentClicks, recentImpressions, path, lastTouch } = state;
        expect(lean).toMatchObject({ maxTs, recentClicks, recentImpressions, path, lastTouch });
        // Left as a new user's: the full run's differ (every stream has valid events).
        expect(lean.sessions).toEqual([]);
        expect(lean.segmentFeatures).toEqual(createUserState().segmentFeatures);
        expect(lean.engagement).toEqual(createUserState().engagement);
        expect(state.sessions.length).toBeGreaterThan(0);
      }
    }
  });
});
