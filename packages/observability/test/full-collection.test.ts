import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { collectGarbageNow } from '../src/full-collection.js';

describe('collectGarbageNow', () => {
  it('collects an object nothing refers to any more, and leaves no global gc behind', async () => {
    const ref = (() => new WeakRef({ payload: new Array(1_000).fill('garbage') }))();
    // A WeakRef keeps its target for the rest of the job that created or read it.
    await nextTurn();
    collectGarbageNow();
    expect(ref.deref()).toBeUndefined();
    expect('gc' in globalThis).toBe(false);
  });
});
