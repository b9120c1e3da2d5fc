import { eventLimits } from './limits.js';

/** Why a `cost` is refused, in one sentence: the collector's validator and the consumers' check say the same. */
export function costReason(cost: unknown): string {
  return `cost must be an integer number of micros from 0 to ${eventLimits.maxCostMicros} (got ${JSON.stringify(cost)?.slice(0, 40)})`;
}
