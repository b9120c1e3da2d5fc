import { createPartitionState, type SegmentSet, type ShapleyTable } from '@sigflow/core';
import type { SigflowConfig } from '@sigflow/config';
import { recordValuesAsFetched, type PartitionFetch } from '@sigflow/kafka/data-path';
import type { RedisClient, StoreKeys } from '@sigflow/store';
import { dryRunCommit } from '@sigflow/store/speed-state';
import { decodeFetch } from './fetch-decoding.js';
import { PartitionCache } from './partition-cache.js';
import { buildPartitionCommit } from './partition-commit.js';
import { RoundChanges, summarizeRound } from './round-changes.js';
import { collectRoundChanges } from './round-rules.js';
import { loadContextOf, loadRoundState } from './round-state-loader.js';
import { UserDirectory } from './user-directory.js';

/**
 * Synthetic rounds and their size: enough calls of the hot functions for V8's optimizing tiers,
 * each per-round step run 12 times and each per-event step 12,000 (every event type at least
 * 750). Rounds of 2,000 cost twice the CPU at every start (1.7-1.8 s against 1.0-1.1 on the
 * Intel Xeon host of 2026-11-28) for rounds no faster after it.
 */
const ROUNDS = 12;
const EVENTS_PER_ROUND = 1_000;
const USERS = 3_000;

/**
 * The type-specific fields of the `n`th synthetic event: every type the tracker, the generator
 * and the Segment path send, with their optional fields too (a real event of a type or shape the
 * warm-up left out deoptimized the rules' code in the first rounds of traffic).
 */
function specificFields(n: number): Record<string, unknown> {
  const ad = { campaign_id: `warm-up-c${n % 7}`, ad_id: `warm-up-a${n % 13}`, channel: ['search', 'social', 'display'][n % 3], placement: 'feed' };
  const page = `warm-up-p${n % 11}`;
  switch (n % 16) {
    case 0:
    case 1:
    case 2:
      return { type: 'impression', ...ad, ...(n % 2 === 0 ? { cost: 1_500 } : {}) };
    case 3:
      return { type: 'click', ...ad, ...(n % 2 === 1 ? { cost: 90_000 } : {}) };
    case 4:
      return { type: 'conversion', page_id: page, value: 10 + (n % 90), currency: 'EUR' };
    case 5:
      return { type: 'track', name: 'search', properties: { query: `q${n % 50}` } };
    case 6:
      return { type: 'identify', traits: { plan: n % 2 === 0 ? 'pro' : 'free', visits: n % 9 } };
    case 7:
      return { type: 'scroll', page_id: page, depth: n % 101 };
    case 8:
      return { type: 'element_click', page_id: page, element_id: `warm-up-e${n % 5}` };
    case 9:
      return { type: 'mouse_move', page_id: page, x: n % 1_280, y: n % 720 };
    case 10:
      return { type: 'form_interaction', page_id: page, form_id: 'warm-up-f', action: ['focus', 'input', 'submit', 'abandon'][n % 4] };
    case 11:
      return { type: 'link_follow', page_id: page, href: `https://example.com/${n % 17}` };
    default:
      return { type: 'page_view', page_id: page };
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
  const values = recordValuesAsFetched(offsets.map((n) => Buffer.from(JSON.stringify(syntheticEvent(n, now)))));
  return { topic: 'warm-up', partition: -1, offsets, values, nextOffset: first + EVENTS_PER_ROUND, highWatermark: first + EVENTS_PER_ROUND };
}

/** What the warm-up runs with: the layer's settings, keys and Redis (read from, never written), its Shapley table and segments. */
export interface WarmUpDeps {
  readonly config: SigflowConfig;
  readonly keys: StoreKeys;
  readonly redis: RedisClient;
  readonly shapley: ShapleyTable | null;
  readonly segments: SegmentSet | undefined;
}

/**
 * Runs a round's path over synthetic events on a throwaway partition (-1) before the layer
 * consumes, so V8 compiles it then rather than on the first real events: the Kafka client's
 * record reading (`recordValuesAsFetched`), decoding, the state loads from Redis (reads of the
 * throwaway partition's keys, and of clicking IPs'), the shared rules, the round's changes, a
 * partition's commit commands, their packing and the client's path to Redis and back
 * (`dryRunCommit`, a script that writes nothing). Writes nothing anywhere, counts no metric.
 * Returns what it ran: events the rules took, records the contract refused (none, or the
 * warm-up no longer warms the path real events take), the commits' packed bytes, milliseconds.
 */
export async function warmUpRoundPath({ config, keys, redis, shapley, segments }: WarmUpDeps): Promise<{ events: number; refused: number; packedBytes: number; ms: number }> {
  const started = performance.now();
  const now = Date.now();
  // A directory that does not know its users: every new one is read, as returning users are.
  const cache = new PartitionCache(-1, null, createPartitionState(), config.rules.dedupeHorizonMs, new UserDirectory(String(now), false, now, config.speed.userTtlMs));
  const rules = { settings: config.rules, shapley, ...(segments ? { segments } : {}) };
  const loads = loadContextOf(config, redis, keys, () => undefined);
  let [events, refused, packedBytes] = [0, 0, 0];
  for (let round = 0; round < ROUNDS; round++) {
    const { messages, deadLetters } = decodeFetch(syntheticFetch(round, now));
    refused += deadLetters.length;
    const foreign = await loadRoundState(loads, [{ cache, events: messages.map((m) => m.event) }], [cache]);
    const changes = new RoundChanges();
    collectRoundChanges(rules, [{ cache, messages, changes }], [cache], foreign);
    events += changes.views.counts.outcomes;
    packedBytes += await dryRunCommit(redis, buildPartitionCommit({ keys, settings: config.rules, speed: config.speed, now }, cache, changes));
    summarizeRound(changes);
  }
  return { events, refused, packedBytes, ms: Math.round(performance.now() - started) };
}
