import { createPartitionState, type SegmentSet, type ShapleyTable } from '@sigflow/core';
import type { SigflowConfig } from '@sigflow/config';
import type { PartitionFetch } from '@sigflow/kafka/data-path';
import type { StoreKeys } from '@sigflow/store';
import { packedCommitBytes } from '@sigflow/store/speed-state';
import { decodeFetch } from './fetch-decoding.js';
import { PartitionCache } from './partition-cache.js';
import { buildPartitionCommit } from './partition-commit.js';
import { RoundChanges, summarizeRound } from './round-changes.js';
import { collectRoundChanges } from './round-rules.js';
import { loadNothingStored } from './round-state-loader.js';
import { UserDirectory } from './user-directory.js';

/** Synthetic rounds and their size: enough calls of the hot functions for V8's optimizing tiers. */
const ROUNDS = 12;
const EVENTS_PER_ROUND = 2_000;
const USERS = 3_000;

/** The type-specific fields of the `n`th synthetic event: the mix of the traffic. */
function specificFields(n: number): Record<string, unknown> {
  const ad = { campaign_id: `warm-up-c${n % 7}`, ad_id: `warm-up-a${n % 13}`, channel: ['search', 'social', 'display'][n % 3] };
  switch (n % 8) {
    case 0:
    case 1:
    case 2:
      return { type: 'impression', ...ad, placement: 'feed' };
    case 3:
      return { type: 'click', ...ad };
    case 4:
      return { type: 'conversion', value: 10 + (n % 90) };
    case 5:
      return { type: 'track', name: 'search', properties: { query: `q${n % 50}` } };
    default:
      return { type: 'page_view', page_id: `warm-up-p${n % 11}` };
  }
}

/**
 * The `n`th synthetic event as stored in the events topic, its fields in the order the tracker
 * and the generator write them (objects parsed from JSON take their shape from that order, and
 * code compiled for one shape is slower on another).
 */
function syntheticEvent(n: number, now: number): Record<string, unknown> {
  const { type, ...specific } = specificFields(n);
  return {
    event_id: `warm-up-${n}`,
    type,
    user_id: `warm-up-user-${n % USERS}`,
    ts: now - 60_000 + n,
    ip: `198.51.100.${n % 200}`,
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0',
    ...specific,
    received_at: now,
  };
}

/** A round's records as the consumer hands them over. */
function syntheticFetch(round: number, now: number): PartitionFetch {
  const first = round * EVENTS_PER_ROUND;
  const offsets = Array.from({ length: EVENTS_PER_ROUND }, (_, i) => first + i);
  const values = offsets.map((n) => Buffer.from(JSON.stringify(syntheticEvent(n, now))));
  return { topic: 'warm-up', partition: -1, offsets, values, nextOffset: first + EVENTS_PER_ROUND, highWatermark: first + EVENTS_PER_ROUND };
}

/**
 * Runs a round's hot path (decoding, the shared rules, the round's changes, a partition's commit
 * commands and their packing) over synthetic events on a throwaway partition before the layer
 * consumes, so V8 compiles it then rather than on the first real events. Its users, buckets
 * and IPs come as a round's loads give them when Redis holds nothing (`loadNothingStored`).
 * Reads and writes nothing: no Redis, no Kafka, no metrics. Returns what it ran: events the
 * rules took, records the contract refused (none, or the warm-up no longer warms the path real
 * events take), the commits' packed bytes, milliseconds.
 */
export function warmUpRoundPath(
  config: SigflowConfig,
  keys: StoreKeys,
  shapley: ShapleyTable | null,
  segments: SegmentSet | undefined,
): { events: number; refused: number; packedBytes: number; ms: number } {
  const started = performance.now();
  const now = Date.now();
  const cache = new PartitionCache(-1, null, createPartitionState(), config.rules.dedupeHorizonMs, new UserDirectory('0', true, now, config.speed.userTtlMs));
  const rules = { settings: config.rules, shapley, ...(segments ? { segments } : {}) };
  let [events, refused, packedBytes] = [0, 0, 0];
  for (let round = 0; round < ROUNDS; round++) {
    const { messages, deadLetters } = decodeFetch(syntheticFetch(round, now));
    refused += deadLetters.length;
    loadNothingStored(config.rules, cache, messages.map((m) => m.event));
    const changes = new RoundChanges();
    collectRoundChanges(rules, [{ cache, messages, changes }], [cache], new Map());
    events += changes.views.counts.outcomes;
    packedBytes += packedCommitBytes(buildPartitionCommit({ keys, settings: config.rules, speed: config.speed, now }, cache, changes));
    summarizeRound(changes);
  }
  return { events, refused, packedBytes, ms: Math.round(performance.now() - started) };
}
