import type { fetchV17 } from '@platformatic/kafka';

type FetchResponse = fetchV17.FetchResponse;

/** What the fetch loop does about a partition-level Kafka error code. */
export type FetchErrorAction = 'refresh' | 'reset' | 'fatal';

/** Kafka error codes a fetch can answer per partition, and what each asks for. */
const actions = new Map<number, FetchErrorAction>([
  [1, 'reset'], // OFFSET_OUT_OF_RANGE: retention removed the next offset
  [3, 'refresh'], // UNKNOWN_TOPIC_OR_PARTITION
  [5, 'refresh'], // LEADER_NOT_AVAILABLE
  [6, 'refresh'], // NOT_LEADER_OR_FOLLOWER
  [7, 'refresh'], // REQUEST_TIMED_OUT
  [56, 'refresh'], // KAFKA_STORAGE_ERROR
  [74, 'refresh'], // FENCED_LEADER_EPOCH
  [75, 'refresh'], // UNKNOWN_LEADER_EPOCH
  [100, 'refresh'], // UNKNOWN_TOPIC_ID
]);

/** The action for a partition's error code (0 = none): retriable codes refresh metadata and retry. */
export function fetchErrorAction(code: number): FetchErrorAction | null {
  if (code === 0) return null;
  return actions.get(code) ?? 'fatal';
}

/**
 * The partial response of a fetch that failed only for some partitions: `@platformatic/kafka`
 * throws a ResponseError carrying the parsed response (the other partitions' records are in it).
 * Null when the error is something else (network, timeout).
 */
export function partitionErrors(err: unknown): FetchResponse | null {
  const seen = new Set<unknown>();
  const search = (e: unknown): FetchResponse | null => {
    if (typeof e !== 'object' || e === null || seen.has(e)) return null;
    seen.add(e);
    const candidate = e as { code?: string; response?: unknown; errors?: unknown[] };
    if (candidate.code === 'PLT_KFK_RESPONSE' && isFetchResponse(candidate.response)) return candidate.response;
    for (const inner of candidate.errors ?? []) {
      const found = search(inner);
      if (found) return found;
    }
    return null;
  };
  return search(err);
}

function isFetchResponse(value: unknown): value is FetchResponse {
  return typeof value === 'object' && value !== null && Array.isArray((value as FetchResponse).responses);
}
