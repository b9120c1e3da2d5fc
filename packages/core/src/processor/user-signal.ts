import type { SigflowEvent } from '@sigflow/events';
import type { InvalidReason } from '../validity/invalid-reason.js';
import type { UserSignal } from './event-outcome.js';

/** The signal of a non-duplicate event: what the user's append-only log keeps of it. */
export function signalOf(event: SigflowEvent, reason: InvalidReason | null, late: boolean, unchecked = false): UserSignal {
  // Built by assignment rather than conditional spreads: this runs once per event.
  // Validity first: a reader serving valid signals decides from the stored JSON's first bytes.
  const signal: { -readonly [K in keyof UserSignal]: UserSignal[K] } = {
    invalid: reason !== null,
    event_id: event.event_id,
    type: event.type,
    ts: event.ts,
    reason,
    late,
    source: 'speed',
  };
  // Rare (copies beyond the dedupe horizon): encodeSignal writes it second whatever its place here.
  if (unchecked) signal.unchecked = true;
  if (event.type === 'impression' || event.type === 'click') {
    signal.campaign_id = event.campaign_id;
    signal.ad_id = event.ad_id;
    signal.channel = event.channel;
  }
  if (event.page_id !== undefined) signal.page_id = event.page_id;
  if (event.type === 'element_click') signal.element_id = event.element_id;
  if (event.type === 'conversion' && event.value !== undefined) signal.value = event.value;
  if (event.type === 'track') {
    signal.name = event.name;
    if (event.properties !== undefined) signal.properties = event.properties;
  }
  return signal;
}

const str = JSON.stringify;

/** The field of an entry appended without a check for copies (`UserSignal.unchecked`). */
const UNCHECKED_FIELD = ',"unchecked":true';

/**
 * The JSON of a signal, as `JSON.stringify(signal)` writes a signal of {@link signalOf} (same
 * fields, same order; an `unchecked` one has that field second), built by hand: the speed layer
 * writes one per event, and the generic serializer walks the object's shape every time. Its
 * layout is what the readers below and the batch layer's correction (`@sigflow/store`'s
 * `correctUserSignals`, a Lua script) rely on: `{"invalid":<bool>`, `,"unchecked":true` when
 * so, `,"event_id":<id>,"type":...,"ts":...,"reason":...,"late":<bool>,"source":"<layer>"`, then
 * the optional fields. It begins `{"invalid":true` or `{"invalid":false`, so the signals read
 * can skip invalid traffic without parsing or searching.
 */
export function encodeSignal(signal: UserSignal): string {
  let json = `{"invalid":${signal.invalid}${signal.unchecked ? UNCHECKED_FIELD : ''},"event_id":${str(signal.event_id)},"type":"${signal.type}","ts":${signal.ts},"reason":${signal.reason === null ? 'null' : `"${signal.reason}"`},"late":${signal.late},"source":"${signal.source}"`;
  if (signal.campaign_id !== undefined) json += `,"campaign_id":${str(signal.campaign_id)}`;
  if (signal.ad_id !== undefined) json += `,"ad_id":${str(signal.ad_id)}`;
  if (signal.channel !== undefined) json += `,"channel":${str(signal.channel)}`;
  if (signal.page_id !== undefined) json += `,"page_id":${str(signal.page_id)}`;
  if (signal.element_id !== undefined) json += `,"element_id":${str(signal.element_id)}`;
  if (signal.value !== undefined) json += `,"value":${str(signal.value)}`;
  if (signal.name !== undefined) json += `,"name":${str(signal.name)}`;
  if (signal.properties !== undefined) json += `,"properties":${str(signal.properties)}`;
  return `${json}}`;
}

/**
 * What the batch layer leaves in place of a later copy of an event in a user's log (the list
 * keeps its length, which the snapshot counts: `restoreUserState`): never served, never replayed.
 */
export const DROPPED_SIGNAL_PREFIX = '{"dropped":';

const bytes = (text: string) => new TextEncoder().encode(text);
const VALIDITY_FIRST = bytes('{"invalid":');
const EVENT_ID_FIELD = bytes('"event_id":');
const TYPE_FIELD = bytes(',"type":');
const DROPPED_FIRST = bytes(DROPPED_SIGNAL_PREFIX);

/** Whether `json` holds `part` at `at`. */
function holds(json: Uint8Array, part: Uint8Array, at: number): boolean {
  if (at + part.length > json.length) return false;
  for (let i = 0; i < part.length; i++) if (json[at + i] !== part[i]) return false;
  return true;
}

/** True (valid) or false (invalid) when a stored signal begins with its validity, else null. */
export function leadingValidity(json: Uint8Array): boolean | null {
  if (json.length <= VALIDITY_FIRST.length || !holds(json, VALIDITY_FIRST, 0)) return null;
  const first = json[VALIDITY_FIRST.length];
  return first === 0x66 /* f(alse) */ ? true : first === 0x74 /* t(rue) */ ? false : null;
}

const VALID_TOKEN = bytes('"invalid":false');
const INVALID_TOKEN = bytes('"invalid":true');

/** Whether `json` holds `part` anywhere (a native scan for its first byte, then a compare). */
function contains(json: Uint8Array, part: Uint8Array): boolean {
  for (let at = json.indexOf(part[0] as number); at >= 0; at = json.indexOf(part[0] as number, at + 1)) if (holds(json, part, at)) return true;
  return false;
}

/**
 * The validity of a stored signal without parsing it: from its first bytes ({@link
 * leadingValidity}), or, for a signal stored in the earlier order (validity after the time), by
 * the token `"invalid":false` / `"invalid":true`, which in `JSON.stringify` output can only be
 * the field itself (a quote inside a string value is always escaped). True: valid; null: parse it.
 */
export function storedSignalValidity(json: Uint8Array): boolean | null {
  const leading = leadingValidity(json);
  if (leading !== null) return leading;
  if (contains(json, VALID_TOKEN)) return true;
  return contains(json, INVALID_TOKEN) ? false : null;
}

/** Whether a stored entry is a dropped copy's marker ({@link DROPPED_SIGNAL_PREFIX}). */
export function isDroppedSignal(json: Uint8Array): boolean {
  return holds(json, DROPPED_FIRST, 0);
}

/** Where the field after the validity begins: `{"invalid":` + `false` or `true` + `,`. */
function secondField(validity: boolean): number {
  return VALIDITY_FIRST.length + (validity ? 5 : 4) + 1;
}

/**
 * Whether a stored signal was appended without a check for copies (`UserSignal.unchecked`):
 * one byte at a fixed place, so a reader can look at every entry it serves.
 */
export function uncheckedSignal(json: Uint8Array): boolean {
  const validity = leadingValidity(json);
  return validity !== null && json[secondField(validity) + 1] === 0x75 /* "u(nchecked)" */;
}

/**
 * The bytes of a stored signal's `event_id` (its JSON string, quotes included), read from the
 * layout {@link encodeSignal} writes, without parsing: `[start, end)`, or null for an entry of
 * another layout. The id's string ends where `,"type":` begins: inside a JSON string a quote is
 * always escaped, so `,"` cannot occur there.
 */
export function signalEventIdSpan(json: Uint8Array): readonly [number, number] | null {
  const validity = leadingValidity(json);
  if (validity === null) return null;
  let field = secondField(validity);
  if (uncheckedSignal(json)) field += UNCHECKED_FIELD.length;
  if (!holds(json, EVENT_ID_FIELD, field)) return null;
  const start = field + EVENT_ID_FIELD.length;
  for (let end = start + 1; end + TYPE_FIELD.length <= json.length; end++) {
    if (json[end] === 0x2c /* , */ && holds(json, TYPE_FIELD, end)) return [start, end];
  }
  return null;
}
