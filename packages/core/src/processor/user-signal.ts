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

/** The field of an entry appended without a check for copies (`UserSignal.unchecked`). */
const UNCHECKED_FIELD = ',"unchecked":true';

/**
 * The bytes of one signal's JSON, written into one reused array and cut out as one flat string:
 * the speed layer writes a signal per event, and a string built by concatenation is a chain of
 * pieces the commit's packing flattens into a second copy. Constant parts and ASCII strings
 * that need no escape are copied unit by unit; anything else goes through `JSON.stringify`.
 */
class SignalJson {
  private bytes = Buffer.allocUnsafeSlow(512);
  private at = 0;
  /** Whether only ASCII was written (then each byte is a character: a Latin-1 read). */
  private asciiOnly = true;

  start(): this {
    this.at = 0;
    this.asciiOnly = true;
    return this;
  }

  /** ASCII written as it is (the layout's constant parts, numbers, enum values). */
  ascii(s: string): this {
    this.room(s.length);
    const { bytes } = this;
    for (let i = 0; i < s.length; i++) bytes[this.at++] = s.charCodeAt(i);
    return this;
  }

  /** A JSON string, as `JSON.stringify(s)` writes it. */
  string(s: string): this {
    this.room(s.length + 2);
    const { bytes } = this;
    const from = this.at;
    bytes[this.at++] = 0x22;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x7f) {
        this.at = from;
        return this.encoded(JSON.stringify(s));
      }
      bytes[this.at++] = c;
    }
    bytes[this.at++] = 0x22;
    return this;
  }

  /** Any JSON text, UTF-8 encoded. */
  encoded(json: string): this {
    this.room(3 * json.length);
    const written = this.bytes.write(json, this.at, 'utf8');
    if (written !== json.length) this.asciiOnly = false;
    this.at += written;
    return this;
  }

  /** The text written: read straight off the buffer (no view of it made). */
  finish(): string {
    return this.bytes.toString(this.asciiOnly ? 'latin1' : 'utf8', 0, this.at);
  }

  private room(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(2 * this.bytes.length, this.at + n));
    this.bytes.copy(next, 0, 0, this.at);
    this.bytes = next;
  }
}

const json = new SignalJson();

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
  json.start().ascii(signal.invalid ? '{"invalid":true' : '{"invalid":false');
  if (signal.unchecked) json.ascii(UNCHECKED_FIELD);
  // The enum fields as the layout always wrote them, a value even when a caller left one out.
  json.ascii(',"event_id":').string(signal.event_id).ascii(',"type":').string(String(signal.type));
  json.ascii(',"ts":').ascii(String(signal.ts)).ascii(',"reason":');
  if (signal.reason === null) json.ascii('null');
  else json.string(signal.reason);
  json.ascii(signal.late ? ',"late":true,"source":' : ',"late":false,"source":').string(String(signal.source));
  if (signal.campaign_id !== undefined) json.ascii(',"campaign_id":').string(signal.campaign_id);
  if (signal.ad_id !== undefined) json.ascii(',"ad_id":').string(signal.ad_id);
  if (signal.channel !== undefined) json.ascii(',"channel":').string(signal.channel);
  if (signal.page_id !== undefined) json.ascii(',"page_id":').string(signal.page_id);
  if (signal.element_id !== undefined) json.ascii(',"element_id":').string(signal.element_id);
  if (signal.value !== undefined) json.ascii(',"value":').encoded(JSON.stringify(signal.value));
  if (signal.name !== undefined) json.ascii(',"name":').string(signal.name);
  if (signal.properties !== undefined) json.ascii(',"properties":').encoded(JSON.stringify(signal.properties));
  return json.ascii('}').finish();
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
