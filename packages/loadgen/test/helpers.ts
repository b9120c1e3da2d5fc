import { loadConfig } from '@sigflow/config';
import { generateEvents, type GeneratorOptions } from '../src/generate-events.js';
import type { GeneratedEvent } from '../src/generated-event.js';

/** The default rules, independent of the environment the tests run in. */
export const rules = loadConfig({}).rules;

/** A fixed stream start (event time) so runs do not depend on the clock. */
export const start = Date.UTC(2025, 2, 3, 9, 0, 0);

export const HOUR = 3_600_000;

/** Every event of a run, in emission order. */
export function collect(options: GeneratorOptions): GeneratedEvent[] {
  return [...generateEvents({ start, rules, partitions: 4, ...options })];
}

/** All hard cases at once, each at a share large enough to count. */
export const allKnobs = {
  late: 0.04,
  outOfOrder: 0.06,
  duplicates: 0.03,
  bots: 0.06,
  floods: 0.04,
  nats: 0.03,
  orphans: 0.08,
  tooFast: 0.08,
} as const;

export function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const map = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    let list = map.get(k);
    if (!list) map.set(k, (list = []));
    list.push(item);
  }
  return map;
}

/** Orders by (ts, event_id), the rules' order. */
export function byTsThenId(a: GeneratedEvent, b: GeneratedEvent): number {
  return a.event.ts - b.event.ts || (a.event.event_id < b.event.event_id ? -1 : a.event.event_id > b.event.event_id ? 1 : 0);
}
