/**
 * Why an event is invalid traffic, in the order the rules are tried (DESIGN.md "Valid event").
 * The first matching rule is the recorded reason.
 */
export const invalidReasons = ['bot', 'flood', 'orphan', 'too_fast'] as const;

/** One of {@link invalidReasons}. */
export type InvalidReason = (typeof invalidReasons)[number];
