import { decodeEvent } from '@sigflow/events';
import type { PartitionFetch } from '@sigflow/kafka/data-path';
import type { DeadLetter, PartitionMessage } from './round-types.js';

/** Dead letters keep the start of the offending payload, enough to diagnose it. */
const MAX_DEAD_LETTER_PAYLOAD = 16 * 1024;

/**
 * Decodes a partition's fetch against the event contract: each message is either an event or a
 * dead letter with the reason, never an exception, so one poison message cannot stop its
 * partition.
 */
export function decodeFetch(fetch: PartitionFetch): { messages: PartitionMessage[]; deadLetters: DeadLetter[] } {
  const messages: PartitionMessage[] = [];
  const deadLetters: DeadLetter[] = [];
  for (let i = 0; i < fetch.offsets.length; i++) {
    const offset = fetch.offsets[i] as number;
    const value = fetch.values[i] ?? null;
    try {
      messages.push({ offset, event: decodeEvent(value) });
    } catch (err) {
      const payload = value?.toString('utf8') ?? '';
      deadLetters.push({ offset, reason: (err as Error).message, payload: payload.slice(0, MAX_DEAD_LETTER_PAYLOAD) });
    }
  }
  return { messages, deadLetters };
}
