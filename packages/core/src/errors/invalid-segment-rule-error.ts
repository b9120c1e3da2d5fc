/**
 * A segment rule that does not follow the rule language (DESIGN.md "Segments"): names the place
 * in the rule as a JSON Pointer (`/all/2/value`, '' for the rule itself) and what is wrong there.
 */
export class InvalidSegmentRuleError extends Error {
  override readonly name = 'InvalidSegmentRuleError';

  constructor(
    /** JSON Pointer of the offending part of the rule. */
    readonly path: string,
    /** What is wrong there. */
    readonly problem: string,
  ) {
    super(`rule${path}: ${problem}`);
  }
}
