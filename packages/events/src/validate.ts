import { Compile } from 'typebox/compile';
import type { Validator } from 'typebox/compile';
import { eventLimits } from './limits.js';
import { consumedEventProblem } from './consumed-event.js';
import { costReason } from './cost-reason.js';
import { normalizeCustomEvent } from './custom-event.js';
import { eventSchemas, eventTypes, type EventType, type ReceivedEvent, type SigflowEvent } from './schema.js';

/** Time limits are relative to `now`; without `now` only the shape is checked (consumers). */
export interface TimeLimits {
  readonly now: number;
  readonly maxFutureMs: number;
  readonly retentionMs: number;
}

/** Why an event was rejected, as a bounded code (metrics label); `reason` says it in words. */
export type RejectionCode = 'not_object' | 'unknown_type' | 'schema' | 'too_large' | 'future' | 'expired' | 'user_deleted' | 'forbidden';

export type EventCheck =
  | { readonly ok: true; readonly event: SigflowEvent; /** the event serialized as JSON */ readonly json: string }
  | { readonly ok: false; readonly code: RejectionCode; readonly reason: string };

export interface AcceptedEvent {
  readonly index: number;
  readonly event: SigflowEvent;
  readonly json: string;
}

export interface RejectedEvent {
  readonly index: number;
  readonly code: RejectionCode;
  readonly reason: string;
}

export interface BatchValidation {
  readonly accepted: AcceptedEvent[];
  readonly rejected: RejectedEvent[];
}

const validators = Object.fromEntries(eventTypes.map((t) => [t, Compile(eventSchemas[t])])) as Record<
  EventType,
  Validator
>;
const typeSet: ReadonlySet<string> = new Set(eventTypes);

/** One readable sentence from the validator's first meaningful error. */
function describeFirstError(validator: Validator, value: unknown): string {
  const errors = validator.Errors(value);
  // The "boolean" entry for an additional property repeats the "additionalProperties" one.
  const error = errors.find((e) => e.keyword !== 'boolean' && e.keyword !== 'anyOf') ?? errors[0];
  if (!error) return 'does not match the event schema';
  const field = error.instancePath ? error.instancePath.slice(1).replaceAll('/', '.') : '';
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    const names = params['additionalProperties'] as string[];
    // Within attrs every printable key is allowed: one refused there holds a control character.
    if (field === 'attrs') return `attrs key ${names.map((n) => JSON.stringify(n)).join(', ')} has characters that are not allowed (control characters)`;
    return `unknown field ${names.join(', ')}`;
  }
  if (error.keyword === 'required') {
    return `missing required field ${(params['requiredProperties'] as string[]).join(', ')}`;
  }
  if (error.keyword === 'const' && field === 'action') {
    return `action must be one of focus, input, submit, abandon`;
  }
  if (error.keyword === 'pattern' && field === 'name') return 'name must be 1 to 64 of a-z, 0-9, _ . : - once lower-cased (spaces become _)';
  if (error.keyword === 'pattern') return `${field} has characters or a form it may not have`;
  if (field === 'cost') return costReason((value as { cost?: unknown }).cost);
  return `${field || 'event'} ${error.message}`;
}

function checkTime(ts: number, limits: TimeLimits): EventCheck | undefined {
  if (ts > limits.now + limits.maxFutureMs) {
    const ahead = Math.round((ts - limits.now) / 1000);
    return { ok: false, code: 'future', reason: `ts is ${ahead} s in the future (limit ${Math.round(limits.maxFutureMs / 1000)} s)` };
  }
  if (ts < limits.now - limits.retentionMs) {
    return { ok: false, code: 'expired', reason: `ts is older than the archive's retention (${duration(limits.retentionMs)})` };
  }
  return undefined;
}

/** A duration in its largest whole unit: `90 d`, `6 h`, `10 min`, `45 s` (a retention under a day is not "0 d"). */
function duration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['min', 60_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  }
  return ms >= 86_400_000 ? `${Math.round(ms / 86_400_000)} d` : `${Math.round(ms / 1000)} s`;
}

type ShapeCheck = { readonly ok: true; readonly event: SigflowEvent } | { readonly ok: false; readonly code: RejectionCode; readonly reason: string };

/** The shape of one event for its `type` (no size or time checks). */
function checkShape(value: unknown): ShapeCheck {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'not_object', reason: 'event must be a JSON object' };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !typeSet.has(type)) {
    return {
      ok: false,
      code: 'unknown_type',
      reason:
        type === undefined
          ? 'missing required field type'
          : `type must be one of ${eventTypes.join(', ')} (got ${JSON.stringify(type)?.slice(0, 40)})`,
    };
  }
  const validator = validators[type as EventType];
  if (!validator.Check(value)) return { ok: false, code: 'schema', reason: describeFirstError(validator, value) };
  return { ok: true, event: value as SigflowEvent };
}

function tooLarge(bytes: number): EventCheck | undefined {
  return bytes > eventLimits.maxEventBytes
    ? { ok: false, code: 'too_large', reason: `event is ${bytes} bytes (limit ${eventLimits.maxEventBytes})` }
    : undefined;
}

const unpairedSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The first field (or `attrs` key/value) holding an unpaired surrogate. Such a string has no
 * UTF-8 form: Kafka keys and Redis get U+FFFD instead, and DuckDB's JSON reader refuses it,
 * so the archive would drop an event the speed layer counted.
 */
function unpairedSurrogateField(value: Record<string, unknown>, prefix = ''): string | undefined {
  for (const [key, v] of Object.entries(value)) {
    if (unpairedSurrogate.test(key)) return `${prefix}${key.replace(unpairedSurrogate, '\ufffd')}`;
    if (typeof v === 'string' && unpairedSurrogate.test(v)) return `${prefix}${key}`;
    if (typeof v === 'object' && v !== null) {
      const inner = unpairedSurrogateField(v as Record<string, unknown>, `${prefix}${key}.`);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

/**
 * Checks one event against the contract: its shape for its `type` (a custom event's name
 * normalized and its properties or traits flattened first: `normalizeCustomEvent`), its
 * serialized size, and (when `limits` are given) its event time. Returns the event (as
 * normalized) and its JSON when it is valid.
 */
export function validateEvent(input: unknown, limits?: TimeLimits): EventCheck {
  let value = input;
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const normalized = normalizeCustomEvent(input as Record<string, unknown>);
    if (!normalized.ok) return { ok: false, code: 'schema', reason: normalized.reason };
    value = normalized.value;
  }
  const shape = checkShape(value);
  if (!shape.ok) return shape;
  const json = JSON.stringify(value);
  // JSON.stringify escapes only unpaired surrogates as \udXXX: look closer only then.
  if (json.includes('\\ud')) {
    const field = unpairedSurrogateField(value as Record<string, unknown>);
    if (field !== undefined) {
      return { ok: false, code: 'schema', reason: `${field} is not valid Unicode (an unpaired UTF-16 surrogate)` };
    }
  }
  // Bytes, not characters: UTF-8 length is what Kafka and the archive store.
  const rejection = tooLarge(Buffer.byteLength(json)) ?? (limits ? checkTime(shape.event.ts, limits) : undefined);
  return rejection ?? { ok: true, event: shape.event, json };
}

/**
 * Validates a batch and splits it: accepted events keep their index and JSON, each rejected
 * one gets its index and a human-readable reason. The batch-level limits (count, bytes) are
 * the transport's to enforce, before parsing.
 */
export function validateBatch(values: readonly unknown[], limits?: TimeLimits): BatchValidation {
  const accepted: AcceptedEvent[] = [];
  const rejected: RejectedEvent[] = [];
  values.forEach((value, index) => {
    const check = validateEvent(value, limits);
    if (check.ok) accepted.push({ index, event: check.event, json: check.json });
    else rejected.push({ index, code: check.code, reason: check.reason });
  });
  return { accepted, rejected };
}

/** Thrown by {@link decodeEvent} for a message that is not a valid event. */
export class EventDecodeError extends Error {
  override readonly name = 'EventDecodeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Parses one message from `events.v1` and checks the structure consumers rely on
 * ({@link consumedEventProblem}; the collector applied the whole contract on the way in, and
 * nothing here depends on the time limits). Throws {@link EventDecodeError} for a poison message.
 */
export function decodeEvent(payload: Buffer | string | null): ReceivedEvent {
  if (payload === null) throw new EventDecodeError('empty message');
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  // The stored message is the event plus received_at: allow for that field in the size.
  const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const size = tooLarge(bytes - receivedAtOverhead);
  if (size && !size.ok) throw new EventDecodeError(size.reason);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new EventDecodeError(`not JSON: ${(cause as Error).message}`, { cause });
  }
  const problem = consumedEventProblem(value);
  if (problem !== null) throw new EventDecodeError(problem);
  return value as ReceivedEvent;
}

/** `,"received_at":<13 digits>` and, in truncated IP mode, `,"ip_key":"<43 characters>"`. */
const receivedAtOverhead = 30 + 54;
