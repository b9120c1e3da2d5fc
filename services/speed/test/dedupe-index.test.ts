import { describe, expect, it } from 'vitest';
import { createPartitionState } from '@sigflow/core';
import { DedupeIndex } from '../src/dedupe-index.js';
import { hashEventId } from '../src/event-id-hash.js';
import { IdHashSet } from '../src/id-hash-set.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);

describe('IdHashSet', () => {
  it('holds a million hashes exactly, growing as it goes', () => {
    const set = new IdHashSet(16);
    let added = 0;
    for (let i = 0; i < 1_000_000; i++) if (set.add(...hashEventId(`evt-${i}`))) added++;
    expect(added).toBe(1_000_000);
    expect(set.size).toBe(1_000_000);
    let found = 0;
    for (let i = 0; i < 1_000_000; i += 7) if (set.has(...hashEventId(`evt-${i}`))) found++;
    expect(found).toBe(Math.ceil(1_000_000 / 7));
    let strangers = 0;
    for (let i = 0; i < 100_000; i++) if (set.has(...hashEventId(`other-${i}`))) strangers++;
    expect(strangers).toBe(0);
    expect(set.add(...hashEventId('evt-5'))).toBe(false);
    // At most 3/4 full: 8 bytes a slot, under 24 bytes a member.
    expect(set.bytes / set.size).toBeLessThan(24);
  });

  it('stores the all-zero hash like any other', () => {
    const set = new IdHashSet();
    expect(set.add(0, 0)).toBe(true);
    expect(set.has(0, 0)).toBe(true);
    expect(set.add(0, 0)).toBe(false);
  });
});

describe('DedupeIndex', () => {
  it('first, duplicate, and unchecked beyond the horizon of the partition newest event time', () => {
    const partition = createPartitionState();
    const index = new DedupeIndex(HOUR, partition);
    expect(index.missingHours([T0, T0 + 10, T0 + HOUR])).toEqual([T0, T0 + HOUR]);
    index.load(T0, null);
    index.load(T0 + HOUR, null);
    expect(index.remember('a', T0)).toBe('first');
    expect(index.remember('a', T0)).toBe('duplicate');
    expect(index.remember('b', T0 + HOUR + 5)).toBe('first');
    partition.maxEventTs = T0 + 3 * HOUR;
    // An hour behind the newest event time is the horizon: older copies are not checked.
    expect(index.remember('a', T0)).toBe('unchecked');
    expect(index.missingHours([T0])).toEqual([]);
  });

  it('hands the new hashes over once, 8 bytes an id, and reads them back from those bytes', () => {
    const partition = createPartitionState();
    const index = new DedupeIndex(HOUR, partition);
    index.load(T0, null);
    for (const id of ['x', 'y', 'z']) index.remember(id, T0 + 1);
    const pending = index.takePending();
    expect([...pending.keys()]).toEqual([T0]);
    expect(pending.get(T0)!.length).toBe(24);
    expect(index.takePending().size).toBe(0);
    // A new owner loads the bucket from the stored bytes and recognises the ids.
    const next = new DedupeIndex(HOUR, partition);
    next.load(T0, pending.get(T0)!);
    expect(next.remember('y', T0 + 1)).toBe('duplicate');
    expect(next.remember('w', T0 + 1)).toBe('first');
  });

  it('forgets buckets wholly past the horizon', () => {
    const partition = createPartitionState();
    const index = new DedupeIndex(HOUR, partition);
    index.load(T0, null);
    index.remember('a', T0);
    partition.maxEventTs = T0 + 3 * HOUR;
    index.evict();
    expect(index.stats().ids).toBe(0);
    expect(index.missingHours([T0 + 2 * HOUR + 1])).toEqual([T0 + 2 * HOUR]);
  });
});
