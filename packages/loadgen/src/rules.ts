/**
 * The rule parameters the generator labels by (a subset of `RuleSettings` in
 * `@sigflow/core`; the platform's configured settings satisfy it).
 */
export interface GeneratorRules {
  readonly windowMs: number;
  readonly watermarkDelayMs: number;
  readonly allowedLatenessMs: number;
  readonly floodThreshold: number;
  readonly floodWindowMs: number;
  readonly joinWindowMs: number;
  readonly tooFastMs: number;
  readonly attributionLookbackMs: number;
}

/** Copies the fields the generator uses (so a full `RuleSettings` can be passed in). */
export function pickRules(rules: GeneratorRules): GeneratorRules {
  return {
    windowMs: rules.windowMs,
    watermarkDelayMs: rules.watermarkDelayMs,
    allowedLatenessMs: rules.allowedLatenessMs,
    floodThreshold: rules.floodThreshold,
    floodWindowMs: rules.floodWindowMs,
    joinWindowMs: rules.joinWindowMs,
    tooFastMs: rules.tooFastMs,
    attributionLookbackMs: rules.attributionLookbackMs,
  };
}
