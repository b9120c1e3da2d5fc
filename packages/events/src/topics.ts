/**
 * Every Kafka topic of the platform, in one place. A prefix (configuration) lets
 * test runs use their own topics on a shared broker.
 */
export const topicNames = Object.freeze({
  /** Valid events from the collector, key = user_id. */
  events: 'events.v1',
  /** Events that failed after acceptance, with the reason. */
  deadLetters: 'events.dlq',
  /** Enriched output of the speed layer (attributed conversions, segment entries and exits). */
  analytics: 'analytics.v1',
  /** A campaign's pacing and bid multipliers when its status or a multiplier changes, key = campaign_id. */
  bidding: 'bidding.v1',
  /**
   * What ops decided and who asked to be deleted (`OpsRecord`, key = kind:id), compacted and kept
   * without a time limit: the durable copy of the decisions Redis caches, read back after a loss.
   */
  ops: 'ops.v1',
});

export type TopicRole = keyof typeof topicNames;

export type Topics = { readonly [K in TopicRole]: string };

/** Topic names with a prefix applied (the empty prefix gives the plain names). */
export function topicsFor(prefix = ''): Topics {
  return {
    events: `${prefix}${topicNames.events}`,
    deadLetters: `${prefix}${topicNames.deadLetters}`,
    analytics: `${prefix}${topicNames.analytics}`,
    bidding: `${prefix}${topicNames.bidding}`,
    ops: `${prefix}${topicNames.ops}`,
  };
}
