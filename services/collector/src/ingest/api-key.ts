import { hash, timingSafeEqual } from 'node:crypto';

const digestOf = (key: string): Buffer => hash('sha256', key, 'buffer');

/** Digests of the configured keys: they come from the configuration, so each is hashed once, not per request. */
const configuredDigests = new Map<string, Buffer>();

function configuredDigest(key: string): Buffer {
  let digest = configuredDigests.get(key);
  if (digest === undefined) configuredDigests.set(key, (digest = digestOf(key)));
  return digest;
}

/**
 * Whether `presented` equals one of `keys`, in time independent of where they differ.
 * Both sides are hashed first so keys of different lengths compare in constant time too.
 */
export function apiKeyMatches(presented: string | undefined, keys: readonly string[]): boolean {
  if (presented === undefined) return false;
  const digest = digestOf(presented);
  let match = false;
  for (const key of keys) {
    // No early exit: every key is compared.
    match = timingSafeEqual(digest, configuredDigest(key)) || match;
  }
  return match;
}
