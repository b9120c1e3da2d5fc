import { describe, expect, it } from 'vitest';
import type { ReceivedEvent } from '@sigflow/events';
import type { PartitionMessage, PendingMessages } from '../src/round-types.js';
import { alignRound, MAX_PENDING_MESSAGES } from '../src/round-alignment.js';

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const message = (offset: number, ts: number): PartitionMessage => ({ offset, event: { event_id: `e${offset}`, type: 'page_view', user_id: 'u', ts, page_id: 'p', received_at: ts } as ReceivedEvent });
const pending = (fetchedNext: number, ...tss: number[]): PendingMessages => ({ messages: tss.map((ts, i) => message(fetchedNext - tss.length + i, ts)), deadLetters: [], fetchedNext, caughtUp: false });

describe('aligning a fetch round in event time', () => {
  it('stops every partition at the earliest newest event time of those that fetched', () => {
    const p0 = pending(10, T0, T0 + 5_000, T0 + 60_000); // reaches T0 + 60 s
    const p1 = pending(20, T0 + 1_000, T0 + 20_000); // reaches only T0 + 20 s: the cutoff
    const parts = alignRound(new Map([[0, p0], [1, p1]]), new Set([0, 1]), () => 0);
    expect(parts.get(0)!.messages.map((m) => m.offset)).toEqual([7, 8]);
    expect(parts.get(0)!.nextOffset).toBe(9); // the commit stops before the held-back message
    expect(p0.messages.map((m) => m.offset)).toEqual([9]);
    expect(parts.get(1)!.messages.map((m) => m.offset)).toEqual([18, 19]);
    expect(parts.get(1)!.nextOffset).toBe(20);
  });

  it('keeps arrival order: a later message waits behind an earlier one past the cutoff, late or not', () => {
    const p0 = pending(4, T0, T0 + 90_000, T0 - 600_000); // a late event after one past the cutoff
    const p1 = pending(2, T0 + 10_000);
    const parts = alignRound(new Map([[0, p0], [1, p1]]), new Set([0, 1]), () => 0);
    expect(parts.get(0)!.messages.map((m) => m.offset)).toEqual([1]);
    expect(p0.messages.map((m) => m.offset)).toEqual([2, 3]);
  });

  it('a partition that fetched nothing holds nobody back; a round where none fetched takes everything', () => {
    const p0 = pending(3, T0, T0 + 90_000);
    const p1 = pending(7, T0 + 1_000);
    const first = alignRound(new Map([[0, p0], [1, p1]]), new Set([0]), () => 0);
    expect(first.get(0)!.messages).toHaveLength(2);
    expect(first.get(1)!.messages).toHaveLength(1);
  });

  it('a partition that fetched up to its high watermark sets no cutoff, and keeps to the cutoff of one with more to read', () => {
    // Live traffic: every partition caught up; the one whose newest event is earliest holds nobody back.
    const live0 = { ...pending(10, T0, T0 + 4), caughtUp: true };
    const live1 = { ...pending(20, T0 + 1, T0 + 9), caughtUp: true };
    const live = alignRound(new Map([[0, live0], [1, live1]]), new Set([0, 1]), () => 0);
    expect(live.get(0)!.messages.map((m) => m.offset)).toEqual([8, 9]);
    expect(live.get(1)!.messages.map((m) => m.offset)).toEqual([18, 19]);
    expect(live1.messages).toEqual([]);
    // A partition reading a backlog (not caught up) still stops the caught-up one at its newest event.
    const caughtUp = { ...pending(10, T0, T0 + 60_000), caughtUp: true };
    const behind = pending(20, T0 + 1_000, T0 + 20_000);
    const parts = alignRound(new Map([[0, caughtUp], [1, behind]]), new Set([0, 1]), () => 0);
    expect(parts.get(0)!.messages.map((m) => m.offset)).toEqual([8]);
    expect(caughtUp.messages.map((m) => m.offset)).toEqual([9]);
    expect(parts.get(1)!.messages.map((m) => m.offset)).toEqual([18, 19]);
  });

  it('a partition holding too many messages takes them all', () => {
    const many = pending(MAX_PENDING_MESSAGES + 2, ...Array.from({ length: MAX_PENDING_MESSAGES + 1 }, (_, i) => T0 + i * 1_000));
    const slow = pending(5, T0);
    const parts = alignRound(new Map([[0, many], [1, slow]]), new Set([0, 1]), () => 0);
    expect(parts.get(0)!.messages).toHaveLength(MAX_PENDING_MESSAGES + 1);
  });

  it('moves the offset past records without events (transaction markers) with an empty part', () => {
    const markersOnly: PendingMessages = { messages: [], deadLetters: [], fetchedNext: 42, caughtUp: true };
    expect(alignRound(new Map([[0, markersOnly]]), new Set(), () => 40).get(0)).toEqual({ messages: [], deadLetters: [], nextOffset: 42 });
    expect(alignRound(new Map([[0, markersOnly]]), new Set(), () => 42).size).toBe(0);
  });
});
