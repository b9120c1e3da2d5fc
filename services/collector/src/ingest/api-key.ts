import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Whether `presented` equals one of `keys`, in time independent of where they differ.
 * Both sides are hashed first so keys of different lengths compare in constant time too.
 */
export function apiKeyMatches(presented: string | undefined, keys: readonly string[]): boolean {
  if (presented === undefined) return false;
  const digest = createHash('sha256').update(presented).digest();
  let match = false;
  for (const key of keys) {
    // No early exit: every key is compared.
    match = timingSafeEqual(digest, createHash('sha256').update(key).digest()) || match;
  }
  return match;
}
