/**
 * A small, fast, seedable pseudo-random number generator (xoshiro128**, seeded through
 * splitmix32). The generator never uses `Math.random`, so a seed fixes every decision.
 */
export class Prng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  constructor(...seed: number[]) {
    this.reseed(...seed);
  }

  /** Restarts the sequence from a seed made of one or more integers (hashed together). */
  reseed(...seed: number[]): this {
    let h = 0x9e3779b9;
    for (const part of seed) {
      // Fold 53-bit integers in as two 32-bit halves.
      h = mix32(h ^ (part >>> 0));
      h = mix32(h ^ Math.floor(part / 4294967296) >>> 0);
    }
    let s = h;
    const next = () => {
      s = (s + 0x9e3779b9) | 0;
      return mix32(s);
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
    return this;
  }

  /** The next 32-bit unsigned integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.uint32() / 4294967296;
  }

  /** An integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** A float in [min, max). */
  between(min: number, max: number): number {
    return min + this.float() * (max - min);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.float() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)] as T;
  }

  /** A log-uniform float in [min, max): as likely between 1 and 10 as between 10 and 100. */
  logBetween(min: number, max: number): number {
    return Math.exp(this.between(Math.log(min), Math.log(max)));
  }

  /** 0, 1, 2, ... with P(k) = (1 - p)^k p, capped at `max`. */
  geometric(p: number, max: number): number {
    let k = 0;
    while (k < max && this.float() >= p) k++;
    return k;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function mix32(x: number): number {
  let z = x | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
