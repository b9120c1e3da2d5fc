// The store's error classes. (`OffsetFenceError` of the speed layer's fenced commit lives with
// that commit, `fenced-commit.ts`.)

/** Thrown when a read would touch more keys than allowed. */
export class ReadLimitError extends Error {
  override readonly name = 'ReadLimitError';
}

/** Thrown when a definition would exceed its configured number (segments, alert rules). */
export class DefinitionLimitError extends Error {
  override readonly name = 'DefinitionLimitError';
}

/** Thrown at start when the store was written in a key layout this release does not know (a newer one). */
export class StoreLayoutError extends Error {
  override readonly name = 'StoreLayoutError';
}
