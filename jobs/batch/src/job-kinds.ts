import { InvalidJobDataError } from './errors.js';
import { floorHour, parseTime } from './hour-range.js';

/**
 * The batch layer's job kinds (BullMQ job names) and their data:
 * - `recompute {from, to}`: recompute the hours [from, to) (ops: `jobs reprocess`);
 * - `recompute-dirty {}`: recompute every dirty hour (the job scheduler, every few minutes) and
 *   advance the batch watermark;
 * - `train-attribution {from?, to?}`: train the Shapley table and the Markov chain over the
 *   period (default: the trailing training period up to the current hour) and publish them;
 * - `reconcile {from, to}`: refresh "what changed against the speed view" of those hours;
 * - `compact {hour, force?}`: merge the small archive files of a sealed hour.
 * Times are ISO strings (`2026-11-20T10:00Z`) or ms since the epoch.
 */
export const jobKinds = ['recompute', 'recompute-dirty', 'train-attribution', 'reconcile', 'compact'] as const;
export type JobKind = (typeof jobKinds)[number];

export type JobRequest =
  | { readonly kind: 'recompute'; readonly from: number; readonly to: number }
  | { readonly kind: 'recompute-dirty' }
  | { readonly kind: 'train-attribution'; readonly from?: number; readonly to?: number }
  | { readonly kind: 'reconcile'; readonly from: number; readonly to: number }
  | { readonly kind: 'compact'; readonly hour: number; readonly force: boolean };

/** Longest range one recompute or reconcile job may cover (a year of hours). */
const maxRangeMs = 366 * 24 * 3_600_000;

function objectOf(data: unknown, kind: string): Record<string, unknown> {
  if (data === undefined || data === null) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new InvalidJobDataError(`${kind}: job data must be an object`);
  return data as Record<string, unknown>;
}

function allowOnly(kind: string, data: Record<string, unknown>, fields: readonly string[]): void {
  const unknown = Object.keys(data).filter((k) => !fields.includes(k));
  if (unknown.length > 0) throw new InvalidJobDataError(`${kind}: unknown field ${unknown.join(', ')} (allowed: ${fields.join(', ') || 'none'})`);
}

function range(kind: string, data: Record<string, unknown>): { from: number; to: number } {
  allowOnly(kind, data, ['from', 'to']);
  if (data['from'] === undefined || data['to'] === undefined) throw new InvalidJobDataError(`${kind}: needs from and to`);
  const from = floorHour(parseTime(data['from'], `${kind}.from`));
  const rawTo = parseTime(data['to'], `${kind}.to`);
  const to = floorHour(rawTo) === rawTo ? rawTo : floorHour(rawTo) + 3_600_000;
  if (to <= from) throw new InvalidJobDataError(`${kind}: from must be before to`);
  if (to - from > maxRangeMs) throw new InvalidJobDataError(`${kind}: range longer than 366 days`);
  return { from, to };
}

/**
 * Checks a job's name and data and returns the typed request. Throws
 * {@link InvalidJobDataError} (the worker fails the job at once, no retry) for an unknown kind
 * or malformed data.
 */
export function parseJobRequest(name: string, data: unknown): JobRequest {
  const d = objectOf(data, name);
  switch (name) {
    case 'recompute':
      return { kind: 'recompute', ...range(name, d) };
    case 'reconcile':
      return { kind: 'reconcile', ...range(name, d) };
    case 'recompute-dirty':
      allowOnly(name, d, []);
      return { kind: 'recompute-dirty' };
    case 'train-attribution': {
      allowOnly(name, d, ['from', 'to']);
      const from = d['from'] === undefined ? undefined : parseTime(d['from'], `${name}.from`);
      const to = d['to'] === undefined ? undefined : parseTime(d['to'], `${name}.to`);
      if (from !== undefined && to !== undefined && to <= from) throw new InvalidJobDataError(`${name}: from must be before to`);
      return { kind: 'train-attribution', ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
    }
    case 'compact': {
      allowOnly(name, d, ['hour', 'force']);
      if (d['hour'] === undefined) throw new InvalidJobDataError(`${name}: needs hour`);
      if (d['force'] !== undefined && typeof d['force'] !== 'boolean') throw new InvalidJobDataError(`${name}: force must be a boolean`);
      return { kind: 'compact', hour: floorHour(parseTime(d['hour'], `${name}.hour`)), force: d['force'] === true };
    }
    default:
      throw new InvalidJobDataError(`unknown job kind ${JSON.stringify(name)} (one of ${jobKinds.join(', ')})`);
  }
}
