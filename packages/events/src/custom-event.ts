import { eventLimits as L } from './limits.js';

/** A custom event's name as the contract keeps it: lower case, runs of spaces as one `_`. */
export function normalizeEventName(name: string): string {
  return name.trim().toLowerCase().replace(/\s+/g, '_');
}

type Flat = Record<string, string | number | boolean>;
type Flattened = { readonly ok: true; readonly bag: Flat } | { readonly ok: false; readonly reason: string };

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One value of a bag: a scalar kept, null dropped, anything else refused (naming it). */
function scalarProblem(path: string, v: unknown): string | null {
  if (typeof v === 'string') return v.length <= L.maxPropertyValueLength ? null : `${path} is longer than ${L.maxPropertyValueLength} characters`;
  if (typeof v === 'number') return Number.isFinite(v) ? null : `${path} must be a finite number`;
  if (typeof v === 'boolean') return null;
  if (Array.isArray(v)) return `${path} is a list: values are strings, numbers or booleans`;
  return `${path} is nested more than one level`;
}

/** Whether a bag is already as the contract keeps it (the common case: no copy then). */
function isFlatBag(value: Record<string, unknown>, max: number): boolean {
  let keys = 0;
  for (const key in value) {
    const v = value[key];
    if (++keys > max || key.length === 0 || key.length > L.maxPropertyKeyLength) return false;
    if (typeof v === 'string') {
      if (v.length > L.maxPropertyValueLength) return false;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return false;
    } else if (typeof v !== 'boolean') return false;
  }
  return true;
}

/**
 * Properties or traits as the contract keeps them: flat, one level of nesting flattened with
 * `.` (`{ product: { id: 7 } }` becomes `product.id`), null values left out; deeper nesting,
 * lists, more than `max` keys or keys longer than 64 are refused with a reason naming the field.
 */
export function flattenBag(value: unknown, field: string, max: number): Flattened {
  if (!isPlainObject(value)) return { ok: false, reason: `${field} must be an object` };
  if (isFlatBag(value, max)) return { ok: true, bag: value as Flat };
  const bag: Flat = {};
  const put = (key: string, v: unknown, path: string): string | null => {
    if (v === null || v === undefined) return null;
    const problem = scalarProblem(path, v);
    if (problem) return problem;
    if (key.length === 0 || key.length > L.maxPropertyKeyLength) return `${field} key ${JSON.stringify(key.slice(0, 80))} must be 1 to ${L.maxPropertyKeyLength} characters`;
    bag[key] = v as string | number | boolean;
    return null;
  };
  for (const [key, v] of Object.entries(value)) {
    const problem = isPlainObject(v)
      ? Object.entries(v).reduce<string | null>((found, [inner, w]) => found ?? put(`${key}.${inner}`, w, `${field}.${key}.${inner}`), null)
      : put(key, v, `${field}.${key}`);
    if (problem) return { ok: false, reason: problem };
  }
  const keys = Object.keys(bag).length;
  return keys > max ? { ok: false, reason: `${field} has ${keys} keys (limit ${max})` } : { ok: true, bag };
}

/**
 * The collector's step before the contract's checks, for the custom types: a `track` name
 * normalized (the sender's spelling kept in `name_original` when it differed) and its
 * `properties` flattened; an `identify`'s or a `group`'s `traits` flattened. Returns the event to
 * check, or the reason it is refused. Other types pass as they are.
 */
export function normalizeCustomEvent(value: Record<string, unknown>): { ok: true; value: Record<string, unknown> } | { ok: false; reason: string } {
  const type = value['type'];
  if (type !== 'track' && type !== 'identify' && type !== 'group') return { ok: true, value };
  const bagField = type === 'track' ? 'properties' : 'traits';
  const bag = value[bagField] === undefined ? undefined : flattenBag(value[bagField], bagField, type === 'track' ? L.maxProperties : L.maxTraits);
  if (bag !== undefined && !bag.ok) return bag;
  const name = type === 'track' && typeof value['name'] === 'string' ? normalizeEventName(value['name']) : value['name'];
  // Already as the contract keeps it (the common case): the event itself, no copy.
  if (name === value['name'] && (bag === undefined || bag.bag === value[bagField])) return { ok: true, value };
  const out: Record<string, unknown> = { ...value };
  if (name !== value['name']) {
    out['name'] = name;
    if (value['name_original'] === undefined) out['name_original'] = value['name'];
  }
  if (bag !== undefined) out[bagField] = bag.bag;
  return { ok: true, value: out };
}
