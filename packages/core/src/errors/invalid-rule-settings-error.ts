/** Rule settings that no rule can work with (e.g. a window length of zero). */
export class InvalidRuleSettingsError extends Error {
  override readonly name = 'InvalidRuleSettingsError';
}
