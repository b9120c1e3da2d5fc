import { compareCodePoints } from '../ordering/event-order.js';

/** Separator of a channel-set key; channel names are [a-z0-9_-], so it never occurs in one. */
const separator = '+';

/**
 * The canonical key of a set of channels, the one way a coalition is named in a Shapley table:
 * the distinct channels sorted by code point and joined with `+` ("display+search"). The empty
 * set is "".
 */
export function channelSetKey(channels: Iterable<string>): string {
  return [...new Set(channels)].sort(compareCodePoints).join(separator);
}

/** The channels of a key made by {@link channelSetKey}. */
export function channelsOfKey(key: string): string[] {
  return key === '' ? [] : key.split(separator);
}

/** The distinct channels of a path, sorted by code point. */
export function distinctChannels(channels: Iterable<string>): string[] {
  return [...new Set(channels)].sort(compareCodePoints);
}
