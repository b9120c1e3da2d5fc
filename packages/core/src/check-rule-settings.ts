import { InvalidRuleSettingsError } from './errors/invalid-rule-settings-error.js';
import type { RuleSettings } from './rule-settings.js';

const positive: readonly (keyof RuleSettings)[] = [
  'windowMs',
  'sessionGapMs',
  'floodWindowMs',
  'joinWindowMs',
  'attributionLookbackMs',
  'timeDecayHalfLifeMs',
  'shapleyTrainingMs',
  'engagementHalfLifeMs',
  'dedupeHorizonMs',
  'mouseGridPx',
  'segmentMembershipTtlMs',
];
const nonNegative: readonly (keyof RuleSettings)[] = ['watermarkDelayMs', 'allowedLatenessMs', 'tooFastMs'];

/**
 * Checks that every setting is a finite integer in range (lengths > 0, delays >= 0, flood
 * threshold >= 1) and returns the same object. Throws {@link InvalidRuleSettingsError} naming
 * the first bad field, so a bad environment variable fails at start-up rather than mid-stream.
 */
export function checkRuleSettings(settings: RuleSettings): RuleSettings {
  for (const field of [...positive, ...nonNegative, 'floodThreshold'] as const) {
    const value = settings[field];
    const min = field === 'floodThreshold' ? 1 : positive.includes(field) ? 1 : 0;
    if (!Number.isSafeInteger(value) || value < min) {
      throw new InvalidRuleSettingsError(`${field} must be an integer >= ${min} (got ${String(value)})`);
    }
  }
  return settings;
}
