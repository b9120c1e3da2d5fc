import { InvalidSegmentRuleError } from '../errors/invalid-segment-rule-error.js';
import { compileSegmentRule, type CompiledRule } from './evaluate-segment.js';
import { parseSegmentRule } from './parse-segment-rule.js';
import { defaultSegmentRuleLimits, segmentNamePattern, type SegmentRule, type SegmentRuleLimits } from './segment-rule.js';

/** A segment as ops defined it (what `PUT /v1/segments/:name` stores). */
export interface SegmentDefinition {
  readonly name: string;
  /**
   * Identity of this segment: the name plus when it was first created, so a segment deleted and
   * created again under the same name starts with no members and no sizes.
   */
  readonly id: string;
  /** Incremented by every change of the rule (1 = as created). */
  readonly version: number;
  readonly rule: SegmentRule;
  readonly description: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A segment ready to evaluate. */
export interface CompiledSegment {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly rule: CompiledRule;
}

/** The segments in force: ordered by id; `version` counts every change of the set. */
export interface SegmentSet {
  readonly version: number;
  readonly segments: readonly CompiledSegment[];
}

/** No segments. */
export const emptySegmentSet: SegmentSet = Object.freeze({ version: 0, segments: Object.freeze([]) });

/** The id of a segment first created at `createdAt` (see {@link SegmentDefinition.id}). */
export function segmentIdOf(name: string, createdAt: number): string {
  return `${name}.${createdAt.toString(36)}`;
}

/**
 * Compiles stored definitions into the set both layers evaluate. A definition that no longer
 * parses (limits lowered since) is left out and named in `skipped`.
 */
export function compileSegmentSet(definitions: readonly SegmentDefinition[], version: number, limits: SegmentRuleLimits = defaultSegmentRuleLimits): { set: SegmentSet; skipped: string[] } {
  const segments: CompiledSegment[] = [];
  const skipped: string[] = [];
  for (const d of definitions) {
    try {
      if (!segmentNamePattern.test(d.name)) throw new InvalidSegmentRuleError('', `bad segment name ${JSON.stringify(d.name)}`);
      segments.push({ id: d.id, name: d.name, version: d.version, rule: compileSegmentRule(parseSegmentRule(d.rule, limits)) });
    } catch (err) {
      if (!(err instanceof InvalidSegmentRuleError)) throw err;
      skipped.push(`${d.name}: ${err.message}`);
    }
  }
  segments.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { set: { version, segments }, skipped };
}
