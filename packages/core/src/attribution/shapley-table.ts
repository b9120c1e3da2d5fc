import { InvalidShapleyTableError } from '../errors/invalid-shapley-table-error.js';
import { channelSetKey } from './channel-set.js';

/**
 * The trained Shapley coalition values v(S) (DESIGN.md "Shapley"), as published by the batch
 * layer and applied by the speed layer. Plain JSON. `values` is keyed by {@link channelSetKey};
 * a set that is not listed has v = 0, and v(empty) = 0 always.
 */
export interface ShapleyTable {
  /** Which training produced it; recorded with every conversion the table attributed. */
  readonly version: string;
  /** v(S) = converted users with exposure set S / users with exposure set S, in [0, 1]. */
  readonly values: Readonly<Record<string, number>>;
}

/** One user's training record over the training period. */
export interface ShapleyTrainingUser {
  /** Channels of the user's valid touchpoints in the period (repeats are fine). */
  readonly channels: Iterable<string>;
  /** At least one valid conversion in the period. */
  readonly converted: boolean;
}

const channelPattern = /^[a-z0-9_-]+$/;

/** v(S) for a canonical key; 0 for the empty set and for sets the table does not list. */
export function coalitionValue(table: ShapleyTable, key: string): number {
  if (key === '' || !Object.hasOwn(table.values, key)) return 0;
  return table.values[key] ?? 0;
}

/**
 * Trains v(S) from per-user exposure sets: users without any valid touchpoint are left out;
 * v(S) = converted / users over the users whose distinct channel set is exactly S. Keys are
 * written in sorted order so equal inputs give byte-equal JSON.
 */
export function trainShapleyTable(users: Iterable<ShapleyTrainingUser>, version: string): ShapleyTable {
  const counts = new Map<string, { users: number; converted: number }>();
  for (const user of users) {
    const key = channelSetKey(user.channels);
    if (key === '') continue;
    const c = counts.get(key) ?? { users: 0, converted: 0 };
    c.users++;
    if (user.converted) c.converted++;
    counts.set(key, c);
  }
  const values: Record<string, number> = {};
  for (const key of [...counts.keys()].sort()) {
    const c = counts.get(key) as { users: number; converted: number };
    values[key] = c.converted / c.users;
  }
  return { version, values };
}

/**
 * Checks a table read from JSON (e.g. from Redis) and returns it typed. Throws
 * {@link InvalidShapleyTableError} for a missing version, a key that is not canonical
 * (unsorted, repeated or badly named channels) or a value outside [0, 1].
 */
export function parseShapleyTable(value: unknown): ShapleyTable {
  if (typeof value !== 'object' || value === null) throw new InvalidShapleyTableError('table must be an object');
  const { version, values } = value as { version?: unknown; values?: unknown };
  if (typeof version !== 'string' || version === '') {
    throw new InvalidShapleyTableError('table needs a non-empty string version');
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new InvalidShapleyTableError(`table ${version}: values must be an object`);
  }
  for (const [key, v] of Object.entries(values)) {
    const channels = key.split('+');
    if (key !== '' && (!channels.every((c) => channelPattern.test(c)) || channelSetKey(channels) !== key)) {
      throw new InvalidShapleyTableError(`table ${version}: key ${JSON.stringify(key)} is not a canonical channel set`);
    }
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new InvalidShapleyTableError(`table ${version}: v(${key}) must be a number in [0, 1]`);
    }
  }
  return { version, values: values as Record<string, number> };
}
