import { createHash } from 'node:crypto';
import type { SegmentTarget } from '@sigflow/config';
import { normalizeEventName } from '@sigflow/events';

/** Why a Segment message was not mapped to an event (the contract's own checks come after). */
export type SegmentRejectionCode = 'segment_mapping' | 'missing_identity' | 'too_large';

export type SegmentMapped =
  | { readonly ok: true; readonly event: Record<string, unknown> }
  | { readonly ok: false; readonly code: SegmentRejectionCode; readonly reason: string };

/** What the request says about the message, beside the message itself. */
export interface SegmentRequestContext {
  /** The write key's site: stamped as `attrs.site`. */
  readonly site: string;
  /** Per event name, what a `track` call becomes instead of the default (the write key's mapping). */
  readonly mapping: ReadonlyMap<string, SegmentTarget> | undefined;
  /** When the collector received the request (ms). */
  readonly receivedAt: number;
  /** The batch's `sentAt` (ms, `segmentTime`), for messages without their own. */
  readonly batchSentAt: number | undefined;
  /** The request's address, and its `User-Agent`: the person's when the request is a browser's. */
  readonly ip: string;
  readonly userAgent: string | undefined;
  /** From a browser (an `Origin` header): the request's address and agent, else `context.ip` and `context.userAgent`. */
  readonly fromBrowser: boolean;
}

/** Segment's e-commerce events the default mapping turns into touchpoints and conversions. */
const defaultTargets: ReadonlyMap<string, SegmentTarget> = new Map([
  ['Promotion Viewed', { type: 'impression' }],
  ['Promotion Clicked', { type: 'click' }],
  ['Order Completed', { type: 'conversion' }],
]);

type Message = Record<string, unknown>;
type Mapping = { ok: true; fields: Message } | { ok: false; reason: string };

const objectAt = (value: unknown): Message => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Message) : {});
const idOf = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
const textOf = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);
const fail = (reason: string): Mapping => ({ ok: false, reason });

/** A channel as the contract keeps it: a name's normalization, only `[a-z0-9_-]`, at most 32. */
export function channelOf(campaign: Message): string {
  const raw = textOf(campaign['medium']) ?? textOf(campaign['source']) ?? 'unknown';
  const channel = normalizeEventName(raw).replace(/[^a-z0-9_-]/g, '_').slice(0, 32);
  return channel.length > 0 ? channel : 'unknown';
}

/** A time as Segment sends it (ISO 8601 string, or ms), in ms; undefined when absent or not a time. */
export function segmentTime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const ms = isoUtcMs(value) ?? Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

const digit = (text: string, at: number, count: number): number => {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
};

/**
 * `YYYY-MM-DDTHH:MM:SS.sssZ`, what Segment's clients send (Date#toISOString), read without
 * Date.parse (a third of the mapping's time); anything else: undefined (Date.parse reads it).
 */
function isoUtcMs(text: string): number | undefined {
  if (text.length !== 24 || text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':' || text[19] !== '.' || text[23] !== 'Z') return undefined;
  const year = digit(text, 0, 4);
  const month = digit(text, 5, 2);
  const day = digit(text, 8, 2);
  const hour = digit(text, 11, 2);
  const minute = digit(text, 14, 2);
  const second = digit(text, 17, 2);
  const ms = digit(text, 20, 3);
  // A day past its month's end (Feb 30) is not read here: Date.parse decides.
  const monthDays = month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= monthDays && hour <= 23 && minute <= 59 && second <= 59 && ms >= 0)) return undefined;
  // Date.UTC is a call into the runtime (half of this function's time): the days are counted here
  // instead. Years before 1970 (refused anyway; Date.UTC reads 0-99 as 1900-1999) keep Date.UTC.
  if (year < 1970) return Date.UTC(year, month - 1, day, hour, minute, second, ms);
  return ((daysSince1970(year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1_000 + ms;
}

/** Days from 1970-01-01 to a date of 1970 or later (Gregorian), counting years from March so the leap day ends one. */
function daysSince1970(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  return y * 365 + Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400) + dayOfYear - 719_468;
}

/**
 * Event time as Segment computes it: `receivedAt - (sentAt - timestamp)` when both are present
 * (the client's clock skew removed), else `timestamp`, else `receivedAt`.
 */
export function eventTimeOf(message: Message, receivedAt: number, batchSentAt: number | undefined): number | string {
  const timestamp = message['timestamp'] ?? message['originalTimestamp'];
  if (timestamp === undefined) return receivedAt;
  const ts = segmentTime(timestamp);
  if (ts === undefined) return `timestamp ${JSON.stringify(timestamp).slice(0, 60)} is not a time`;
  const sentAt = message['sentAt'] === undefined ? batchSentAt : segmentTime(message['sentAt']);
  return Math.round(sentAt === undefined ? ts : receivedAt - (sentAt - ts));
}

/** A deterministic id for a message without `messageId` (raw HTTP callers): its retries dedupe too. */
function derivedMessageId(message: Message): string {
  return `seg-${createHash('sha256').update(JSON.stringify(message)).digest('hex').slice(0, 40)}`;
}

function touchpoint(properties: Message, campaign: Message, event: string): Mapping {
  const campaignId = idOf(properties['promotion_id']) ?? textOf(campaign['name']);
  if (campaignId === undefined) return fail(`${event} needs properties.promotion_id or context.campaign.name (its campaign)`);
  const adId = idOf(properties['creative']);
  if (adId === undefined) return fail(`${event} needs properties.creative (its ad)`);
  return { ok: true, fields: { campaign_id: campaignId, ad_id: adId, channel: channelOf(campaign) } };
}

function conversionFields(properties: Message): Message {
  const value = properties['revenue'] ?? properties['total'];
  const fields: Message = {};
  if (value !== undefined) fields['value'] = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  const currency = properties['currency'];
  if (typeof currency === 'string') fields['currency'] = currency.toUpperCase();
  return fields;
}

function trackOf(message: Message, campaign: Message, mapping: SegmentRequestContext['mapping']): Mapping {
  const event = textOf(message['event']);
  if (event === undefined) return fail('a track call needs its event name (event)');
  const target = mapping?.get(event) ?? defaultTargets.get(event) ?? { type: 'track' };
  const properties = objectAt(message['properties']);
  switch (target.type) {
    case 'impression':
    case 'click': {
      const mapped = touchpoint(properties, campaign, event);
      return mapped.ok ? { ok: true, fields: { type: target.type, ...mapped.fields } } : mapped;
    }
    case 'conversion':
      return { ok: true, fields: { type: 'conversion', ...conversionFields(properties) } };
    case 'page_view':
      return pageOf({ ...message, name: event });
    case 'track': {
      const name = 'name' in target ? target.name : event;
      const fields: Message = { type: 'track', name };
      if (name !== event) fields['name_original'] = event;
      if (message['properties'] !== undefined) fields['properties'] = message['properties'];
      return { ok: true, fields };
    }
  }
}

function pageOf(message: Message): Mapping {
  const properties = objectAt(message['properties']);
  const pageId = idOf(properties['path']) ?? idOf(message['name']) ?? idOf(objectAt(objectAt(message['context'])['page'])['path']);
  if (pageId === undefined) return fail(`a ${String(message['type'])} call needs properties.path or a name (its page_id)`);
  return { ok: true, fields: { type: 'page_view', page_id: pageId } };
}

/** The contract's type and type-specific fields of a Segment call, or why it has none. */
function fieldsOf(message: Message, campaign: Message, mapping: SegmentRequestContext['mapping']): Mapping {
  switch (message['type']) {
    case 'track':
      return trackOf(message, campaign, mapping);
    case 'page':
    case 'screen':
      return pageOf(message);
    case 'identify':
      return { ok: true, fields: { type: 'identify', traits: message['traits'] ?? objectAt(message['context'])['traits'] ?? {} } };
    case 'alias': {
      const previous = idOf(message['previousId']);
      return previous === undefined ? fail('an alias call needs previousId') : { ok: true, fields: { type: 'alias', previous_id: previous } };
    }
    case 'group': {
      const group = idOf(message['groupId']);
      if (group === undefined) return fail('a group call needs groupId');
      return { ok: true, fields: { type: 'group', group_id: group, ...(message['traits'] !== undefined ? { traits: message['traits'] } : {}) } };
    }
    default:
      return fail(`type must be one of track, page, screen, identify, group, alias (got ${JSON.stringify(message['type'])?.slice(0, 40)})`);
  }
}

/** What every mapped event carries in `attrs`: the site, the page's URL, the anonymous id, the UTM campaign, the original timestamp. */
function attrsOf(message: Message, site: string, campaign: Message, type: unknown): Record<string, string> {
  const attrs: Record<string, string> = { site };
  if (type === 'page_view') {
    const url = textOf(objectAt(message['properties'])['url']);
    if (url !== undefined) attrs['url'] = url;
  }
  const anonymousId = idOf(message['anonymousId']);
  if (anonymousId !== undefined) attrs['anonymous_id'] = anonymousId;
  if (typeof campaign['source'] === 'string') attrs['utm_source'] = campaign['source'];
  if (typeof campaign['medium'] === 'string') attrs['utm_medium'] = campaign['medium'];
  if (typeof campaign['name'] === 'string') attrs['utm_campaign'] = campaign['name'];
  if (typeof message['timestamp'] === 'string') attrs['timestamp'] = message['timestamp'];
  return attrs;
}

const noCampaign: Message = {};

/**
 * Maps one Segment call (DESIGN.md, "Segment's wire format") to an event of the contract, which
 * the contract's validation then checks like any other: `messageId` -> `event_id`, `userId` else
 * `anonymousId` -> `user_id` (the anonymous id kept in `attrs`), the event time corrected for the
 * client's clock, the type by the write key's mapping. A call without an identity or one the
 * mapping cannot place is refused with its reason.
 */
export function mapSegmentMessage(value: unknown, request: SegmentRequestContext): SegmentMapped {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, code: 'segment_mapping', reason: 'a message must be a JSON object' };
  const message = value as Message;
  const userId = idOf(message['userId']) ?? idOf(message['anonymousId']);
  if (userId === undefined) return { ok: false, code: 'missing_identity', reason: 'a message needs a userId or an anonymousId' };
  const context = objectAt(message['context']);
  const campaign = context['campaign'] === undefined ? noCampaign : objectAt(context['campaign']);
  const mapped = fieldsOf(message, campaign, request.mapping);
  if (!mapped.ok) return { ok: false, code: 'segment_mapping', reason: mapped.reason };
  const ts = eventTimeOf(message, request.receivedAt, request.batchSentAt);
  if (typeof ts === 'string') return { ok: false, code: 'segment_mapping', reason: ts };
  // The mapped fields first, then what every event carries (one object, no copies: the hot path).
  const event = mapped.fields;
  event['event_id'] = idOf(message['messageId']) ?? derivedMessageId(message);
  event['user_id'] = userId;
  event['ts'] = ts;
  // A browser's request is the person's; a server's is the SDK's (its address and "analytics-node"
  // would make every person one flooding bot): then only what the call says of the person counts.
  const ip = request.fromBrowser ? request.ip : textOf(context['ip']);
  if (ip) event['ip'] = ip;
  const userAgent = request.fromBrowser ? request.userAgent : textOf(context['userAgent']);
  if (userAgent) event['user_agent'] = userAgent.slice(0, 1_024);
  event['attrs'] = attrsOf(message, request.site, campaign, event['type']);
  return { ok: true, event };
}
