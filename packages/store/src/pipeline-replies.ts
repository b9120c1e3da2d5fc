import type { ChainableCommander } from 'ioredis';

/** A stored time (ms, a decimal string), or null when absent or not a number. */
export function parseMs(text: string | null | undefined): number | null {
  if (text === null || text === undefined || text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** The results of a pipeline, throwing the first command error. */
export async function execAll(pipe: ChainableCommander): Promise<unknown[]> {
  const results = (await pipe.exec()) ?? [];
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/**
 * Queues HGETALL so that it answers the flat [field, value, ...] array: `pipe.hgetall` would
 * build an object with one property per field (slow for the thousands of fields of a day of
 * windows). ioredis transforms the reply of the lower-case command name only; readers accept
 * either form (see `forEachField`), so a client that did convert would still be read right.
 */
export function hgetallFlat(pipe: ChainableCommander, key: string): void {
  pipe.call('HGETALL', key);
}
