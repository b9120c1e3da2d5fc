/** Persisted operator state (from Redis) that does not have the shape this code writes. */
export class InvalidStateError extends Error {
  override readonly name = 'InvalidStateError';
}
