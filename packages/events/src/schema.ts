import Type, { type Static, type TLiteral, type TSchema } from 'typebox';
import { eventLimits as L } from './limits.js';

/** Every event type of the contract. */
export const eventTypes = [
  'impression',
  'click',
  'conversion',
  'page_view',
  'element_click',
  'scroll',
  'form_interaction',
  'link_follow',
  'mouse_move',
  'track',
  'identify',
  'alias',
  'group',
] as const;
export type EventType = (typeof eventTypes)[number];

/**
 * Types that are not user signals: identity records (`identify` sets traits kept in the
 * profile; `alias` and `group` are archived for later use).
 */
export const identityTypes = ['identify', 'alias', 'group'] as const;

/** Touchpoints are the events attribution credits. */
export const touchpointTypes = ['impression', 'click'] as const;
export type TouchpointType = (typeof touchpointTypes)[number];

export const formActions = ['focus', 'input', 'submit', 'abandon'] as const;
export type FormAction = (typeof formActions)[number];

// Printable identifiers: no control characters, so ids are safe in logs and keys.
const printable = '^[^\\u0000-\\u001f\\u007f]+$';
const Id = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: printable });

/** Fields every event may carry. */
const common = {
  event_id: Id(L.maxEventIdLength),
  user_id: Id(L.maxUserIdLength),
  /** Event time, integer ms since the epoch. */
  ts: Type.Integer({ minimum: 0 }),
  /** Stamped by the collector (ms since the epoch); clients may omit it. */
  received_at: Type.Optional(Type.Integer({ minimum: 0 })),
  ip: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: printable })),
  user_agent: Type.Optional(Type.String({ maxLength: L.maxUserAgentLength })),
  page_id: Type.Optional(Id(L.maxIdLength)),
  placement: Type.Optional(Id(L.maxIdLength)),
  attrs: Type.Optional(
    // The key's length goes in propertyNames: a Record's key schema becomes a pattern and drops
    // maxLength. Keys are printable: a key any pattern misses (TypeBox's default `^.*$` misses
    // one with a line break) would not have its value checked.
    Type.Record(Type.String({ pattern: printable }), Type.String({ maxLength: L.maxAttrValueLength }), {
      maxProperties: L.maxAttrs,
      propertyNames: { maxLength: 64 },
      additionalProperties: false,
    }),
  ),
};

function eventOf<K extends EventType, P extends Record<string, TSchema>>(type: K, properties: P) {
  // A type's own definition of a common field (page_id is required on page events) replaces
  // the optional one; spelled out because a spread of a generic would intersect the two.
  const base = Object.fromEntries(Object.entries(common).filter(([name]) => !(name in properties))) as Omit<
    typeof common,
    keyof P
  >;
  const shape = { type: Type.Literal(type), ...base, ...properties } as { type: TLiteral<K> } & Omit<typeof common, keyof P> & P;
  return Type.Object(shape, { additionalProperties: false });
}

const touchpoint = {
  campaign_id: Id(L.maxIdLength),
  ad_id: Id(L.maxIdLength),
  channel: Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9_-]+$' }),
  /** What the impression or click cost: integer micros of the campaign's currency (spend, pacing). */
  cost: Type.Optional(Type.Integer({ minimum: 0, maximum: L.maxCostMicros })),
};

export const ImpressionEvent = eventOf('impression', touchpoint);
export const ClickEvent = eventOf('click', touchpoint);
export const ConversionEvent = eventOf('conversion', {
  value: Type.Optional(Type.Number({ minimum: 0, maximum: 1e12 })),
  currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
});
export const PageViewEvent = eventOf('page_view', { page_id: Id(L.maxIdLength) });
export const ElementClickEvent = eventOf('element_click', { page_id: Id(L.maxIdLength), element_id: Id(L.maxIdLength) });
export const ScrollEvent = eventOf('scroll', { page_id: Id(L.maxIdLength), depth: Type.Number({ minimum: 0, maximum: 100 }) });
export const FormInteractionEvent = eventOf('form_interaction', {
  form_id: Id(L.maxIdLength),
  // Spelled out: a mapped union would lose the literal types.
  action: Type.Union([Type.Literal('focus'), Type.Literal('input'), Type.Literal('submit'), Type.Literal('abandon')]),
});
export const LinkFollowEvent = eventOf('link_follow', { href: Type.String({ minLength: 1, maxLength: L.maxHrefLength }) });
/** A property or trait: keys of 1 to 64 printable characters; values strings (at most 256), finite numbers or booleans. */
const Bag = (maxProperties: number) =>
  Type.Record(
    Type.String({ maxLength: L.maxPropertyKeyLength }),
    Type.Union([Type.String({ maxLength: L.maxPropertyValueLength }), Type.Number(), Type.Boolean()]),
    { maxProperties, propertyNames: { minLength: 1, maxLength: L.maxPropertyKeyLength, pattern: printable } },
  );

/**
 * Any product action a site or app tracks (a search, an item viewed, a wishlist): a user signal,
 * never a touchpoint. `name` as normalized by the collector (lower case, spaces as `_`), the
 * sender's spelling in `name_original` when it differed; `properties` flat (the collector
 * flattens one level of nesting with `.`).
 */
export const TrackEvent = eventOf('track', {
  name: Type.String({ minLength: 1, maxLength: L.maxEventNameLength, pattern: '^[a-z0-9_.:-]+$' }),
  name_original: Type.Optional(Id(L.maxIdLength)),
  properties: Type.Optional(Bag(L.maxProperties)),
});
/** Who the user is: traits kept in the profile (the latest `identify` in event time wins per trait). */
export const IdentifyEvent = eventOf('identify', { traits: Bag(L.maxTraits) });
/** Another id of the same person (archived: the identity link is kept for later use). */
export const AliasEvent = eventOf('alias', { previous_id: Id(L.maxUserIdLength) });
/** The user belongs to a group (an account, a company), with its traits (archived). */
export const GroupEvent = eventOf('group', { group_id: Id(L.maxIdLength), traits: Type.Optional(Bag(L.maxTraits)) });

export const MouseMoveEvent = eventOf('mouse_move', {
  page_id: Id(L.maxIdLength),
  x: Type.Number({ minimum: 0, maximum: 100_000 }),
  y: Type.Number({ minimum: 0, maximum: 100_000 }),
});

/** One schema per event type; the validator picks by `type`. */
export const eventSchemas = {
  impression: ImpressionEvent,
  click: ClickEvent,
  conversion: ConversionEvent,
  page_view: PageViewEvent,
  element_click: ElementClickEvent,
  scroll: ScrollEvent,
  form_interaction: FormInteractionEvent,
  link_follow: LinkFollowEvent,
  mouse_move: MouseMoveEvent,
  track: TrackEvent,
  identify: IdentifyEvent,
  alias: AliasEvent,
  group: GroupEvent,
} as const satisfies Record<EventType, TSchema>;

/** The whole contract as one schema (for OpenAPI documents). */
export const SigflowEventSchema = Type.Union(eventTypes.map((t) => eventSchemas[t]));

export type ImpressionEvent = Static<typeof ImpressionEvent>;
export type ClickEvent = Static<typeof ClickEvent>;
export type ConversionEvent = Static<typeof ConversionEvent>;
export type PageViewEvent = Static<typeof PageViewEvent>;
export type ElementClickEvent = Static<typeof ElementClickEvent>;
export type ScrollEvent = Static<typeof ScrollEvent>;
export type FormInteractionEvent = Static<typeof FormInteractionEvent>;
export type LinkFollowEvent = Static<typeof LinkFollowEvent>;
export type MouseMoveEvent = Static<typeof MouseMoveEvent>;
export type TrackEvent = Static<typeof TrackEvent>;
export type IdentifyEvent = Static<typeof IdentifyEvent>;
export type AliasEvent = Static<typeof AliasEvent>;
export type GroupEvent = Static<typeof GroupEvent>;

/** Any event of the contract. */
export type SigflowEvent =
  | ImpressionEvent
  | ClickEvent
  | ConversionEvent
  | PageViewEvent
  | ElementClickEvent
  | ScrollEvent
  | FormInteractionEvent
  | LinkFollowEvent
  | MouseMoveEvent
  | TrackEvent
  | IdentifyEvent
  | AliasEvent
  | GroupEvent;

export type TouchpointEvent = ImpressionEvent | ClickEvent;

/**
 * An event as it travels on `events.v1`: the collector has stamped `received_at`, and in
 * truncated IP mode (`SIGFLOW_PRIVACY_IP_MODE`) put `ip_key`, a keyed hash of the full address
 * the flood rule reads instead of the truncated `ip`. Clients cannot send `ip_key` (the
 * contract refuses unknown fields).
 */
export type ReceivedEvent = SigflowEvent & { received_at: number; ip_key?: string };

/** The address the per-IP flood rule counts by: the keyed hash of the full one when the collector truncated it. */
export function floodIpOf(event: { readonly ip?: string | undefined; readonly ip_key?: string | undefined }): string | undefined {
  return event.ip_key ?? event.ip;
}

export function isTouchpoint(event: SigflowEvent): event is TouchpointEvent {
  return event.type === 'impression' || event.type === 'click';
}
