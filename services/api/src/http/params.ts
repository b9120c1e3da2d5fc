import { eventTypes, type EventType } from '@sigflow/events';
import type { TimeRange } from '@sigflow/store/views';
import { BadParameterError } from '../errors.js';

const isoPattern = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A time parameter: epoch milliseconds (digits) or ISO-8601 (a date, or a date-time down to
 * the hour, e.g. `2025-11-03T10`; without an offset it is UTC). Throws {@link BadParameterError}.
 */
export function parseTime(value: string, parameter: string): number {
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const m = isoPattern.exec(value);
  if (m) {
    const [, date, hh, mm, ss, frac, zone] = m;
    const text = `${date}T${hh ?? '00'}:${mm ?? '00'}:${ss ?? '00'}${frac ? frac.slice(0, 4) : ''}${zone ?? 'Z'}`;
    const ms = Date.parse(text);
    if (Number.isFinite(ms) && ms >= 0) return ms;
  }
  throw new BadParameterError(parameter, `${parameter} must be epoch milliseconds or an ISO-8601 time (e.g. 2025-11-03T10:00Z), got ${JSON.stringify(value)}`);
}

export interface RangeOptions {
  readonly now: number;
  readonly maxRangeMs: number;
  /** Length of the range when `from` is absent. */
  readonly defaultSpanMs: number;
}

/** A query range [from, to) from optional `from`/`to`; `to` defaults to now, `from` to `to - defaultSpan`. */
export function parseRange(from: string | undefined, to: string | undefined, options: RangeOptions): TimeRange {
  const end = to === undefined ? options.now : parseTime(to, 'to');
  const start = from === undefined ? Math.max(0, end - options.defaultSpanMs) : parseTime(from, 'from');
  if (start >= end) {
    throw new BadParameterError('from', `from (${new Date(start).toISOString()}) must be before to (${new Date(end).toISOString()})`);
  }
  if (end - start > options.maxRangeMs) {
    throw new BadParameterError('to', `the range from..to spans ${end - start} ms, over the maximum of ${options.maxRangeMs} ms`);
  }
  return { from: start, to: end };
}

/** A comma list of event types (`types=click,impression`), each checked against the contract. */
export function parseTypes(value: string | undefined): Set<EventType> | undefined {
  if (value === undefined || value === '') return undefined;
  const types = new Set<EventType>();
  for (const t of value.split(',').map((s) => s.trim())) {
    if (!(eventTypes as readonly string[]).includes(t)) {
      throw new BadParameterError('types', `types: unknown event type ${JSON.stringify(t)}; known: ${eventTypes.join(', ')}`);
    }
    types.add(t as EventType);
  }
  return types;
}

/** A definition's description: a JSON string of at most 500 characters (checked here: the schema would convert a number). */
export function descriptionOf(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || value.length > 500) throw new BadParameterError('description', 'description must be a string of at most 500 characters');
  return value;
}
