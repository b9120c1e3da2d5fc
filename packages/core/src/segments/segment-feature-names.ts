import { eventLimits, eventTypes, type EventType } from '@sigflow/events';
import { countWindows, type CountWindow, type SegmentFeature } from './segment-rule.js';
import { trackTimesKey } from './segment-features.js';

const plainFeatures = ['engagement_score', 'last_conversion_age_s', 'channels', 'flagged'] as const;
const types: ReadonlySet<string> = new Set(eventTypes);
/** Custom event names and trait names as the contract keeps them. */
const eventNamePattern = new RegExp(`^[a-z0-9_.:-]{1,${eventLimits.maxEventNameLength}}$`);
const traitNamePattern = new RegExp(`^[^\\u0000-\\u001f\\u007f]{1,${eventLimits.maxPropertyKeyLength}}$`);

/** Every feature name a rule may use, for error messages. */
export const featureNames = `engagement_score, count:<type>:<${Object.keys(countWindows).join('|')}>, count:track:<event name>:<${Object.keys(countWindows).join('|')}>, trait:<name>, last_conversion_age_s, channels, flagged`;

const quoted = (s: string, n = 80) => JSON.stringify(s.slice(0, n));

/** `count:<type>:<window>` or `count:track:<name>:<window>` (a name may hold `:`). */
function countFeature(name: string): SegmentFeature | string {
  const parts = name.split(':');
  const window = parts.at(-1) as string;
  const type = parts[1] as string;
  if (!types.has(type)) return `unknown event type ${quoted(type, 40)} in ${quoted(name)} (one of ${eventTypes.join(', ')})`;
  if (!Object.hasOwn(countWindows, window)) return `unknown window ${quoted(window, 20)} in ${quoted(name)} (one of ${Object.keys(countWindows).join(', ')})`;
  const windowMs = countWindows[window as CountWindow];
  if (parts.length === 3) return { kind: 'count', type: type as EventType, key: type, window: window as CountWindow, windowMs };
  const eventName = parts.slice(2, -1).join(':');
  if (type !== 'track') return `unknown feature ${quoted(name)} (one of ${featureNames})`;
  if (!eventNamePattern.test(eventName)) return `${quoted(eventName, 70)} in ${quoted(name)} is not an event name (1-64 of a-z 0-9 _ . : -)`;
  return { kind: 'count', type: 'track', key: trackTimesKey(eventName), window: window as CountWindow, windowMs };
}

/**
 * The feature a name denotes, or a string saying why there is none: `engagement_score`,
 * `count:<event type>:<1h|24h|7d>`, `count:track:<event name>:<1h|24h|7d>`, `trait:<name>`,
 * `last_conversion_age_s`, `channels`, `flagged`.
 */
export function featureOf(name: string): SegmentFeature | string {
  if ((plainFeatures as readonly string[]).includes(name)) return { kind: name as (typeof plainFeatures)[number] };
  if (name.startsWith('trait:')) {
    const trait = name.slice('trait:'.length);
    return traitNamePattern.test(trait) ? { kind: 'trait', name: trait } : `${quoted(trait, 70)} in ${quoted(name)} is not a trait name (1-64 printable characters)`;
  }
  if (!name.startsWith('count:') || name.split(':').length < 3) return `unknown feature ${quoted(name)} (one of ${featureNames})`;
  return countFeature(name);
}
