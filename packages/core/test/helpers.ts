// Event builders and small drivers shared by the tests.
import type { ReceivedEvent, SigflowEvent } from '@sigflow/events';
import {
  classifyCopy,
  createIpState,
  createPartitionState,
  createUserState,
  defaultRuleSettings,
  processEvent,
  type EventCopy,
  type EventOutcome,
  type IpState,
  type PartitionState,
  type RuleSettings,
  type ShapleyTable,
  type UserState,
} from '../src/index.js';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** 2025-11-03 10:00:00 UTC, a window boundary. */
export const T0 = Date.UTC(2025, 10, 3, 10, 0, 0);

export const CHROME_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
export const GOOGLEBOT_UA = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

interface Common {
  id: string;
  ts: number;
  user?: string;
  ip?: string;
  ua?: string;
  received_at?: number;
}

function common(o: Common) {
  return {
    event_id: o.id,
    user_id: o.user ?? 'u1',
    ts: o.ts,
    received_at: o.received_at ?? o.ts,
    user_agent: o.ua ?? CHROME_UA,
    ...(o.ip !== undefined ? { ip: o.ip } : {}),
  };
}

type TouchOpts = Common & { ad?: string; campaign?: string; channel?: string };

export function impression(o: TouchOpts): ReceivedEvent {
  return { ...common(o), type: 'impression', campaign_id: o.campaign ?? 'c1', ad_id: o.ad ?? 'a1', channel: o.channel ?? 'search' };
}

export function click(o: TouchOpts): ReceivedEvent {
  return { ...common(o), type: 'click', campaign_id: o.campaign ?? 'c1', ad_id: o.ad ?? 'a1', channel: o.channel ?? 'search' };
}

export function conversion(o: Common & { value?: number }): ReceivedEvent {
  return { ...common(o), type: 'conversion', ...(o.value !== undefined ? { value: o.value } : {}) };
}

export function elementClick(o: Common & { page: string; element: string }): ReceivedEvent {
  return { ...common(o), type: 'element_click', page_id: o.page, element_id: o.element };
}

export function pageView(o: Common & { page: string }): ReceivedEvent {
  return { ...common(o), type: 'page_view', page_id: o.page };
}

/** mulberry32: a tiny seeded PRNG so random tests are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One arriving Kafka message: the event and its offset. */
export interface Arrival {
  readonly event: ReceivedEvent;
  readonly offset: number;
}

export interface SpeedRunOptions {
  settings?: RuleSettings;
  shapley?: ShapleyTable | null;
  /** Serialize and parse every state around each event, as the speed layer does with Redis. */
  jsonRoundTrip?: boolean;
}

/**
 * A minimal speed layer for one partition: arrival order, a "seen" map for dedupe, keyed user
 * and IP state and the partition watermark.
 */
export function runSpeed(
  events: readonly (SigflowEvent | Arrival)[],
  options: SpeedRunOptions = {},
): { outcomes: EventOutcome[]; users: Map<string, UserState>; partition: PartitionState } {
  const settings = options.settings ?? defaultRuleSettings;
  const clone = <T>(x: T): T => (options.jsonRoundTrip ? (JSON.parse(JSON.stringify(x)) as T) : x);
  const seen = new Map<string, EventCopy>();
  const users = new Map<string, UserState>();
  const ips = new Map<string, IpState>();
  let partition = createPartitionState();
  const outcomes = events.map((item, index) => {
    const arrival: Arrival = 'offset' in item ? item : { event: item as ReceivedEvent, offset: index };
    const { event, offset } = arrival;
    const copy: EventCopy = { received_at: event.received_at ?? event.ts, offset };
    const verdict = classifyCopy(seen.get(event.event_id), copy);
    if (verdict === 'first') seen.set(event.event_id, copy);
    const user = clone(users.get(event.user_id) ?? createUserState());
    const ip = event.ip === undefined ? undefined : clone(ips.get(event.ip) ?? createIpState());
    partition = clone(partition);
    const outcome = processEvent(
      { user, ip, partition, settings, shapley: options.shapley, isDuplicate: verdict !== 'first' },
      event,
    );
    users.set(event.user_id, user);
    if (ip && event.ip !== undefined) ips.set(event.ip, ip);
    return outcome;
  });
  return { outcomes, users, partition };
}

/** The outcome of the event with this id (the first one, when copies repeat it). */
export function outcomeOf(outcomes: readonly EventOutcome[], eventId: string): EventOutcome {
  const o = outcomes.find((x) => x.event_id === eventId);
  if (!o) throw new Error(`no outcome for ${eventId}`);
  return o;
}

/** Fisher-Yates shuffle (a copy) driven by `random`. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
