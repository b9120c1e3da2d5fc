import { describe, expect, it } from 'vitest';
import { Prng } from '../src/prng.js';

describe('Prng', () => {
  it('repeats its sequence for a seed and differs across seeds', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const c = new Prng(8);
    const sa = Array.from({ length: 100 }, () => a.uint32());
    const sb = Array.from({ length: 100 }, () => b.uint32());
    const sc = Array.from({ length: 100 }, () => c.uint32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    expect(new Set(sa).size).toBe(100);
  });

  it('reseeds to the same sequence as a fresh generator', () => {
    const a = new Prng(1);
    a.uint32();
    a.reseed(5, 9);
    const b = new Prng(5, 9);
    expect(Array.from({ length: 10 }, () => a.float())).toEqual(Array.from({ length: 10 }, () => b.float()));
  });

  it('draws in range and roughly uniformly', () => {
    const rng = new Prng(42);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = rng.int(0, 9);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(9);
      counts[x]!++;
    }
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    let hits = 0;
    for (let i = 0; i < 100_000; i++) if (rng.chance(0.03)) hits++;
    expect(hits / 100_000).toBeCloseTo(0.03, 2);
  });
});
