import { createHash } from 'node:crypto';

/**
 * What a tombstone keeps of a deleted person: sha256(salt TAB userId) in hex. Ids are
 * printable (the event contract forbids control characters), so the tab cannot be forged by an
 * id. DuckDB computes the same value with {@link tombstoneHashSql}, so the archiver can drop
 * rows without the ids ever being stored.
 */
export function tombstoneHash(salt: string, userId: string): string {
  return createHash('sha256').update(`${salt}\t${userId}`).digest('hex');
}

/**
 * The DuckDB expression of {@link tombstoneHash} over a column, the salt bound as the named
 * parameter `saltParam` (never spliced into SQL).
 */
export function tombstoneHashSql(column: string, saltParam: string): string {
  return `sha256($${saltParam} || chr(9) || ${column})`;
}
