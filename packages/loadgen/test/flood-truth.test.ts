import { describe, expect, it } from 'vitest';
import { floodFlags, type FloodClick } from '../src/flood-truth.js';

const click = (ts: number, eventId: string, userId: string, ip?: string): FloodClick => ({ ts, eventId, userId, ip });
const flagged = (clicks: FloodClick[], threshold = 10, windowMs = 60_000) =>
  [...floodFlags(clicks, threshold, windowMs)].flatMap((f, i) => (f ? [clicks[i]!.eventId] : []));

describe('floodFlags (the truth file\'s flood rule)', () => {
  it('flags the 11th to 14th click of 14 users behind one IP within a minute (a NAT)', () => {
    // One click each, 4 s apart: 0, 4, ..., 52 s; every earlier click lies in the window.
    const clicks = Array.from({ length: 14 }, (_, i) => click(1_000_000 + i * 4_000, `e${String(i).padStart(2, '0')}`, `user${i}`, '198.18.0.1'));
    expect(flagged(clicks)).toEqual(['e10', 'e11', 'e12', 'e13']);
  });

  it('counts an earlier click exactly 60 s before, not one 60.001 s before', () => {
    // Ten clicks at t - 60 s, then one at t: ten earlier clicks in [t - 60 s, t], a flood.
    const at = 5_000_000;
    const edge = Array.from({ length: 10 }, (_, i) => click(at - 60_000, `a${i}`, `u${i}`, '10.0.0.1'));
    expect(flagged([...edge, click(at, 'z', 'uz', '10.0.0.1')])).toEqual(['z']);
    const outside = Array.from({ length: 10 }, (_, i) => click(at - 60_001, `a${i}`, `u${i}`, '10.0.0.1'));
    expect(flagged([...outside, click(at, 'z', 'uz', '10.0.0.1')])).toEqual([]);
  });

  it('orders clicks of one ts by event_id: only the one with ten before it is a flood', () => {
    // Eleven clicks at the same ts, given shuffled: the one with the largest id has ten before it.
    const ids = ['k', 'c', 'a', 'j', 'e', 'b', 'h', 'd', 'g', 'f', 'i'];
    const clicks = ids.map((id) => click(42_000, id, `user-${id}`, '100.64.0.9'));
    expect(flagged(clicks)).toEqual(['k']);
  });

  it('flags a user past the threshold whatever their IPs, and an IP whatever its users', () => {
    // User u: 12 clicks 1 s apart from 12 different IPs -> clicks 11 and 12 are floods (per user).
    const user = Array.from({ length: 12 }, (_, i) => click(i * 1_000, `u${String(i).padStart(2, '0')}`, 'u', `10.1.0.${i}`));
    // IP 10.9.9.9: 11 different users, 5 s apart -> the 11th is a flood (per IP).
    const ip = Array.from({ length: 11 }, (_, i) => click(100_000 + i * 5_000, `i${String(i).padStart(2, '0')}`, `v${i}`, '10.9.9.9'));
    expect(flagged([...ip, ...user])).toEqual(['i10', 'u10', 'u11']);
  });

  it('forgets clicks that slid out of the window, and never flags an IP for clicks without one', () => {
    // 10 clicks in the first second, then one at 61 s: the earlier ten are over 60 s before it.
    const early = Array.from({ length: 10 }, (_, i) => click(i * 100, `e${i}`, `w${i}`, '10.2.2.2'));
    expect(flagged([...early, click(61_000, 'late', 'w-late', '10.2.2.2')])).toEqual([]);
    const noIp = Array.from({ length: 12 }, (_, i) => click(i * 100, `n${String(i).padStart(2, '0')}`, `x${i}`));
    expect(flagged(noIp)).toEqual([]);
  });

  it('follows the threshold and window it is given', () => {
    const clicks = Array.from({ length: 4 }, (_, i) => click(i * 10_000, `t${i}`, `y${i}`, '10.3.3.3'));
    // Threshold 2 within 15 s: t2 has t1 only (t0 is 20 s before); with 30 s, t2 and t3 have two each.
    expect(flagged(clicks, 2, 15_000)).toEqual([]);
    expect(flagged(clicks, 2, 30_000)).toEqual(['t2', 't3']);
  });
});
