import type { InvalidReason } from './invalid-reason.js';

/** What the rules found about one (non-duplicate) event, before picking the reason. */
export interface RuleFindings {
  readonly type: string;
  readonly bot: boolean;
  /** Clicks only: flood by user or by IP. */
  readonly flood?: boolean;
  /** Clicks only: no joinable valid impression. */
  readonly orphan?: boolean;
  /** Clicks only: the joined impression is less than 1 s before. */
  readonly tooFast?: boolean;
}

/**
 * Picks the reason an event is invalid traffic: the first matching rule in the order
 * bot, flood, orphan, too_fast, or null when valid. Only clicks can be flood, orphan or
 * too_fast; every other type (conversions included) is invalid only as a bot.
 */
export function classifyEvent(findings: RuleFindings): InvalidReason | null {
  if (findings.bot) return 'bot';
  if (findings.type !== 'click') return null;
  if (findings.flood) return 'flood';
  if (findings.orphan) return 'orphan';
  if (findings.tooFast) return 'too_fast';
  return null;
}
