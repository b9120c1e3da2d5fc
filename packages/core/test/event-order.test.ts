import { describe, expect, it } from 'vitest';
import { insertByEventKey } from '../src/ordering/event-order.js';

const key = (ts: number, event_id: string) => ({ ts, event_id });

describe('insertByEventKey', () => {
  it('keeps (ts, event_id) order whether items come in order, late or early, and adds a replay once', () => {
    const list: { ts: number; event_id: string }[] = [];
    const inserts = [key(10, 'b'), key(20, 'a'), key(30, 'a'), key(5, 'z'), key(20, 'c'), key(20, 'b'), key(30, 'a'), key(40, 'a'), key(10, 'a')];
    const added = inserts.map((k) => insertByEventKey(list, k));
    expect(added).toEqual([true, true, true, true, true, true, false, true, true]);
    // Hand-ordered: by ts, then event_id.
    expect(list.map((k) => `${k.ts}${k.event_id}`)).toEqual(['5z', '10a', '10b', '20a', '20b', '20c', '30a', '40a']);
  });
});
