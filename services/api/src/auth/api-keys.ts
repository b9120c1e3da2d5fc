import { createHash, timingSafeEqual } from 'node:crypto';
import type { Role } from '@sigflow/config';

/** What each role may do: reader < analyst < ops, each including the ones before it. */
export const roleRank: Readonly<Record<Exclude<Role, 'privacy'>, number>> = Object.freeze({ reader: 1, analyst: 2, ops: 3 });

/**
 * Whether a key of role `have` may use a route that needs `need`. `privacy` stands apart: its
 * routes (a person's deletion and export) take `privacy` or `ops` keys, and a `privacy` key
 * opens nothing else.
 */
export function roleAllows(have: Role, need: Role): boolean {
  if (need === 'privacy') return have === 'privacy' || have === 'ops';
  if (have === 'privacy') return false;
  return roleRank[have] >= roleRank[need];
}

/** SHA-256 of a presented key: fixed length, so comparisons take the same time whatever the input. */
export function keyDigest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/**
 * The configured API keys and their roles. A presented key is hashed once and compared with
 * every configured key's digest using `timingSafeEqual`, with no early exit, so the time
 * taken says nothing about which key (or which byte of it) matched.
 */
export class KeyRing {
  private readonly entries: readonly { digest: Buffer; role: Role }[];

  constructor(keys: ReadonlyMap<string, Role>) {
    this.entries = [...keys].map(([key, role]) => ({ digest: keyDigest(key), role }));
  }

  get size(): number {
    return this.entries.length;
  }

  /** The role of the key with this digest, null when it is not configured. */
  roleOf(digest: Buffer): Role | null {
    let role: Role | null = null;
    for (const entry of this.entries) {
      // No early exit: every entry is compared.
      if (timingSafeEqual(digest, entry.digest)) role = entry.role;
    }
    return role;
  }
}

/**
 * The key a request presents: `x-api-key`, `Authorization: Bearer <key>`, or HTTP Basic with
 * the key as password (what a browser sends after the ops board's login prompt).
 */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const auth = headers.authorization;
  if (typeof auth !== 'string') return undefined;
  const space = auth.indexOf(' ');
  const scheme = auth.slice(0, space).toLowerCase();
  const value = auth.slice(space + 1).trim();
  if (scheme === 'bearer' && value !== '') return value;
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const password = colon >= 0 ? decoded.slice(colon + 1) : decoded;
    return password === '' ? undefined : password;
  }
  return undefined;
}
