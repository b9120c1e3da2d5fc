// Event builders (from @sigflow/test-support, received when sent) and small drivers shared by the tests.
import { eventBuilders } from '@sigflow/test-support';
import type { ReceivedEvent, SigflowEvent } from '@sigflow/events';
import { createIpState, createPartitionState, createUserState, defaultRuleSettings, processEvent, type EventOutcome, type IpState, type PartitionState, type RuleSettings, type ShapleyTable, type UserState } from '../src/index.js';
import { classifyCopy, type EventCopy } from '../src/validity/first-copy.js';

/** 2025-11-03 10:00:00 UTC, a window boundary. */
export const T0 = Date.UTC(2025, 10, 3, 10, 0, 0);

export { CHROME_UA, DAY, GOOGLEBOT_UA, HOUR, MINUTE, SECOND, seededRandom, shuffle } from '@sigflow/test-support';
export const { impression, click, conversion, elementClick, pageView } = eventBuilders();

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
