import { eventTypes, type EventType } from '@sigflow/events';
import { countWindows, type CountWindow, type SegmentFeature } from './segment-rule.js';

const plainFeatures = ['engagement_score', 'last_conversion_age_s', 'channels', 'flagged'] as const;
const types: ReadonlySet<string> = new Set(eventTypes);

/** Every feature name a rule may use, for error messages. */
export const featureNames = `engagement_score, count:<type>:<${Object.keys(countWindows).join('|')}>, last_conversion_age_s, channels, flagged`;

/**
 * The feature a name denotes, or a string saying why there is none: `engagement_score`,
 * `count:<event type>:<1h|24h|7d>`, `last_conversion_age_s`, `channels`, `flagged`.
 */
export function featureOf(name: string): SegmentFeature | string {
  if ((plainFeatures as readonly string[]).includes(name)) return { kind: name as (typeof plainFeatures)[number] };
  const parts = name.split(':');
  if (parts[0] !== 'count' || parts.length !== 3) return `unknown feature ${JSON.stringify(name.slice(0, 80))} (one of ${featureNames})`;
  const [, type, window] = parts as [string, string, string];
  if (!types.has(type)) return `unknown event type ${JSON.stringify(type.slice(0, 40))} in ${JSON.stringify(name.slice(0, 80))} (one of ${eventTypes.join(', ')})`;
  if (!Object.hasOwn(countWindows, window)) return `unknown window ${JSON.stringify(window.slice(0, 20))} in ${JSON.stringify(name.slice(0, 80))} (one of ${Object.keys(countWindows).join(', ')})`;
  return { kind: 'count', type: type as EventType, window: window as CountWindow, windowMs: countWindows[window as CountWindow] };
}
