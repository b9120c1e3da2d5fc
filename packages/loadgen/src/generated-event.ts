import type { EventType, SigflowEvent } from '@sigflow/events';
import type { Ad, Page } from './catalogue.js';
import { serializeEvent } from './serialize.js';
import { touchpointCost } from './pricing.js';

/**
 * Why an event is invalid, known by construction (the generator injected it), or `valid`.
 * When several rules would match, the first of bot, flood, orphan, too_fast is the reason.
 */
export type Validity = 'valid' | 'bot' | 'flood' | 'orphan' | 'too_fast';

/** The invalid reasons, in rule order. */
export const invalidReasons = ['bot', 'flood', 'orphan', 'too_fast'] as const;
export type InvalidReason = (typeof invalidReasons)[number];

/** One event of the generated stream, with the labels the generator knows by construction. */
export interface GeneratedEvent {
  /** The event as sent (the sink or the collector adds `received_at`). */
  readonly event: SigflowEvent;
  /** `event` serialized as JSON. */
  readonly json: string;
  /** Kafka key: the user id. */
  readonly key: string;
  /** The partition `partitionOf(key, partitions)` of the events topic. */
  readonly partition: number;
  /** Position in emission order (0-based). */
  readonly seq: number;
  /** The stream's event-time clock when the event was emitted (>= `event.ts`). */
  readonly emitAt: number;
  /** A later copy of an event already emitted (same event_id and payload). */
  readonly duplicate: boolean;
  /** Validity per the shared rules (for a duplicate: that of the original). */
  readonly validity: Validity;
  /**
   * Validity by the rules other than `flood` (bot, orphan, too_fast, or valid): what the event
   * would be if the flood rule did not exist. The truth recorder computes floods itself, over
   * all partitions, and takes the other reasons from here.
   */
  readonly validityWithoutFlood: Validity;
  /**
   * Its window (+ allowed lateness) had closed on its partition's watermark when it
   * was emitted: the speed layer leaves it out of windowed metrics and attribution.
   */
  readonly late: boolean;
  /** Its `ts` is older than the newest `ts` already emitted on its partition. */
  readonly outOfOrder: boolean;
  /**
   * Conversions only: the user's valid, non-duplicate impressions and clicks with `ts`
   * in [ts - lookback, ts], ordered by (ts, event_id). Empty for other types.
   */
  readonly path: readonly GeneratedEvent[];
}

/** Who sends an event: shared by all events of a user. */
export interface EventActor {
  readonly userId: string;
  readonly ip: string;
  readonly userAgent: string;
  readonly partition: number;
  readonly validity: Validity;
  /** Event ids are this prefix and a base-36 counter. */
  readonly idPrefix: string;
  /** Every string above can go into JSON without escaping. */
  readonly plain: boolean;
}

const noPath: readonly GeneratedEvent[] = Object.freeze([]);

/**
 * The generator's record behind {@link GeneratedEvent}. A planned event holds only
 * references and numbers (journeys are planned ahead, so these records live a while);
 * the event object is built when first read and the JSON when the event is emitted.
 */
export class PlannedEvent implements GeneratedEvent {
  json = '';
  seq = -1;
  emitAt = 0;
  late = false;
  outOfOrder = false;
  path: readonly GeneratedEvent[] = noPath;
  validityWithoutFlood: Validity;
  private built: SigflowEvent | undefined;

  /**
   * `ad` for impressions and clicks; `page` for page events; `text`: element_id, form_id
   * or href; `action`: the form action; `n1`, `n2`: depth, x and y, or the value.
   */
  constructor(
    readonly type: EventType,
    readonly ts: number,
    readonly actor: EventActor,
    readonly idNumber: number,
    readonly validity: Validity,
    readonly ad: Ad | undefined,
    readonly page: Page | undefined,
    readonly text: string | undefined,
    readonly action: string | undefined,
    readonly n1: number,
    readonly n2: number,
  ) {
    this.validityWithoutFlood = validity;
  }

  get key(): string {
    return this.actor.userId;
  }

  get partition(): number {
    return this.actor.partition;
  }

  get duplicate(): boolean {
    return false;
  }

  get eventId(): string {
    return this.actor.idPrefix + this.idNumber.toString(36);
  }

  /** What an impression or click costs (its ad's pricing); undefined when not charged or not a touchpoint. */
  get cost(): number | undefined {
    if (this.ad === undefined || (this.type !== 'impression' && this.type !== 'click')) return undefined;
    return touchpointCost(this.ad.pricing, this.type, this.idNumber);
  }

  get event(): SigflowEvent {
    return (this.built ??= this.build());
  }

  /** Serializes the event (called once, at emission). */
  serialize(): string {
    const a = this.actor;
    if (!a.plain) return serializeEvent(this.event);
    const head = `{"event_id":"${this.eventId}","type":"${this.type}","user_id":"${a.userId}","ts":${this.ts},"ip":"${a.ip}","user_agent":"${a.userAgent}"`;
    const page = this.page?.pageId;
    switch (this.type) {
      case 'impression':
      case 'click': {
        const ad = this.ad as Ad;
        const cost = this.cost;
        const priced = cost === undefined ? '' : `,"cost":${cost}`;
        return `${head},"campaign_id":"${ad.campaignId}","ad_id":"${ad.adId}","channel":"${ad.channel}","placement":"${ad.placement}"${priced}}`;
      }
      case 'page_view':
        return `${head},"page_id":"${page}"}`;
      case 'scroll':
        return `${head},"page_id":"${page}","depth":${this.n1}}`;
      case 'element_click':
        return `${head},"page_id":"${page}","element_id":"${this.text}"}`;
      case 'mouse_move':
        return `${head},"page_id":"${page}","x":${this.n1},"y":${this.n2}}`;
      case 'form_interaction':
        return `${head},"page_id":"${page}","form_id":"${this.text}","action":"${this.action}"}`;
      case 'link_follow':
        return `${head},"page_id":"${page}","href":"${this.text}"}`;
      case 'conversion':
        return `${head},"page_id":"${page}","value":${this.n1},"currency":"EUR"}`;
      default:
        return serializeEvent(this.event);
    }
  }

  private build(): SigflowEvent {
    const a = this.actor;
    const base = {
      event_id: this.eventId,
      type: this.type,
      user_id: a.userId,
      ts: this.ts,
      ip: a.ip,
      user_agent: a.userAgent,
    };
    const page_id = this.page?.pageId as string;
    switch (this.type) {
      case 'impression':
      case 'click': {
        const ad = this.ad as Ad;
        const cost = this.cost;
        const touch = { ...base, campaign_id: ad.campaignId, ad_id: ad.adId, channel: ad.channel, placement: ad.placement };
        return (cost === undefined ? touch : { ...touch, cost }) as SigflowEvent;
      }
      case 'page_view':
        return { ...base, page_id } as SigflowEvent;
      case 'scroll':
        return { ...base, page_id, depth: this.n1 } as SigflowEvent;
      case 'element_click':
        return { ...base, page_id, element_id: this.text } as SigflowEvent;
      case 'mouse_move':
        return { ...base, page_id, x: this.n1, y: this.n2 } as SigflowEvent;
      case 'form_interaction':
        return { ...base, page_id, form_id: this.text, action: this.action } as SigflowEvent;
      case 'link_follow':
        return { ...base, page_id, href: this.text } as SigflowEvent;
      default:
        return { ...base, page_id, value: this.n1, currency: 'EUR' } as SigflowEvent;
    }
  }
}

/** A re-sent copy of an emitted event: same event and JSON, its own emission labels. */
export class DuplicateEvent implements GeneratedEvent {
  seq = -1;
  emitAt = 0;
  late = false;
  outOfOrder = false;
  readonly duplicate = true;

  constructor(readonly original: PlannedEvent) {}

  get event(): SigflowEvent {
    return this.original.event;
  }
  get json(): string {
    return this.original.json;
  }
  get key(): string {
    return this.original.key;
  }
  get partition(): number {
    return this.original.partition;
  }
  get validity(): Validity {
    return this.original.validity;
  }
  get validityWithoutFlood(): Validity {
    return this.original.validityWithoutFlood;
  }
  get ts(): number {
    return this.original.ts;
  }
  get path(): readonly GeneratedEvent[] {
    return noPath;
  }
}
