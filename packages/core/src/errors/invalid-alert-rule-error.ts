/** An alert rule that does not follow DESIGN.md "Alerts": names the field (JSON Pointer) and the problem. */
export class InvalidAlertRuleError extends Error {
  override readonly name = 'InvalidAlertRuleError';

  constructor(
    /** JSON Pointer of the offending field (`/condition/threshold`). */
    readonly path: string,
    readonly problem: string,
  ) {
    super(`rule${path}: ${problem}`);
  }
}
