/** mulberry32: a tiny seeded PRNG, so "random" inputs and moments in a suite are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The seed of a suite's random timing: `SIGFLOW_TEST_SEED` when set (to replay a failure),
 * else `fallback`, fixed per suite so that every run does the same.
 */
export function testSeed(fallback: number): number {
  const raw = process.env['SIGFLOW_TEST_SEED'];
  if (raw === undefined || raw === '') return fallback;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`SIGFLOW_TEST_SEED must be an integer, got "${raw}"`);
  return seed;
}

/** Fisher-Yates shuffle (a copy) driven by `random`. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
