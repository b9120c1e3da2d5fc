import { eventLimits as L } from './limits.js';
import { eventTypes, formActions, type EventType } from './schema.js';
import { costReason } from './cost-reason.js';

/**
 * The structure consumers (speed layer, archiver) rely on, checked by hand: a few hundred
 * nanoseconds against the microseconds of the compiled contract, which the collector already
 * applied on the way in. It refuses whatever could break processing or the key layout: wrong
 * types, missing fields, unknown event types, ids with control characters (tabs join hash
 * fields). Limits that only bound sizes are the collector's; a producer that skips the
 * collector is trusted with those. Returns the problem in words, or null.
 */
export function consumedEventProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'event must be a JSON object';
  const e = value as Record<string, unknown>;
  const type = e['type'];
  if (typeof type !== 'string' || !types.has(type)) return `unknown event type ${JSON.stringify(type)?.slice(0, 40)}`;
  const common =
    idProblem(e, 'event_id', true, L.maxEventIdLength) ??
    idProblem(e, 'user_id', true, L.maxUserIdLength) ??
    integerProblem(e, 'ts', true) ??
    integerProblem(e, 'received_at', true) ??
    idProblem(e, 'ip', false, 64) ??
    idProblem(e, 'ip_key', false, 64) ??
    stringProblem(e, 'user_agent', false) ??
    idProblem(e, 'page_id', pageTypes.has(type), L.maxIdLength) ??
    idProblem(e, 'placement', false, L.maxIdLength) ??
    attrsProblem(e['attrs']);
  return common ?? typeProblem(type as EventType, e);
}

const types: ReadonlySet<string> = new Set(eventTypes);
const pageTypes: ReadonlySet<string> = new Set(['page_view', 'element_click', 'scroll', 'mouse_move']);
const actions: ReadonlySet<string> = new Set(formActions);

function typeProblem(type: EventType, e: Record<string, unknown>): string | null {
  switch (type) {
    case 'impression':
    case 'click':
      return idProblem(e, 'campaign_id', true, L.maxIdLength) ?? idProblem(e, 'ad_id', true, L.maxIdLength) ?? idProblem(e, 'channel', true, 32) ?? costProblem(e['cost']);
    case 'conversion':
      return numberProblem(e, 'value', false) ?? stringProblem(e, 'currency', false);
    case 'element_click':
      return idProblem(e, 'element_id', true, L.maxIdLength);
    case 'scroll':
      return numberProblem(e, 'depth', true);
    case 'form_interaction':
      return idProblem(e, 'form_id', true, L.maxIdLength) ?? (actions.has(e['action'] as string) ? null : 'action must be one of focus, input, submit, abandon');
    case 'link_follow':
      return stringProblem(e, 'href', true);
    case 'mouse_move':
      return numberProblem(e, 'x', true) ?? numberProblem(e, 'y', true);
    case 'track':
      return idProblem(e, 'name', true, L.maxEventNameLength) ?? bagProblem(e, 'properties', false);
    case 'identify':
      return bagProblem(e, 'traits', true);
    case 'alias':
      return idProblem(e, 'previous_id', true, L.maxUserIdLength);
    case 'group':
      return idProblem(e, 'group_id', true, L.maxIdLength) ?? bagProblem(e, 'traits', false);
    default:
      return null;
  }
}

/** Properties or traits: an object of strings, numbers and booleans (the collector flattened it). */
function bagProblem(e: Record<string, unknown>, name: string, required: boolean): string | null {
  const v = e[name];
  if (v === undefined) return required ? `missing required field ${name}` : null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${name} must be an object`;
  for (const w of Object.values(v)) if (typeof w !== 'string' && typeof w !== 'number' && typeof w !== 'boolean') return `${name} values must be strings, numbers or booleans`;
  return null;
}

function stringProblem(e: Record<string, unknown>, name: string, required: boolean): string | null {
  const v = e[name];
  if (v === undefined) return required ? `missing required field ${name}` : null;
  return typeof v === 'string' ? null : `${name} must be a string`;
}

/** A printable identifier: a non-empty string without control characters, at most `max` long. */
function idProblem(e: Record<string, unknown>, name: string, required: boolean, max: number): string | null {
  const v = e[name];
  if (v === undefined) return required ? `missing required field ${name}` : null;
  if (typeof v !== 'string' || v.length === 0 || v.length > max) return `${name} must be a string of 1 to ${max} characters`;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return `${name} has characters or a form it may not have`;
  }
  return null;
}

function integerProblem(e: Record<string, unknown>, name: string, required: boolean): string | null {
  const v = e[name];
  if (v === undefined) return required ? `missing required field ${name}` : null;
  return Number.isSafeInteger(v) && (v as number) >= 0 ? null : `${name} must be a non-negative integer`;
}

function numberProblem(e: Record<string, unknown>, name: string, required: boolean): string | null {
  const v = e[name];
  if (v === undefined) return required ? `missing required field ${name}` : null;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? null : `${name} must be a non-negative number`;
}

/** An optional cost: an integer number of micros in 0..maxCostMicros (views add it with HINCRBY). */
function costProblem(cost: unknown): string | null {
  if (cost === undefined) return null;
  return Number.isSafeInteger(cost) && (cost as number) >= 0 && (cost as number) <= L.maxCostMicros ? null : costReason(cost);
}

function attrsProblem(attrs: unknown): string | null {
  if (attrs === undefined) return null;
  if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) return 'attrs must be an object of strings';
  for (const k in attrs) if (typeof (attrs as Record<string, unknown>)[k] !== 'string') return 'attrs must be an object of strings';
  return null;
}
