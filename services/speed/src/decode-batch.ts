import { decodeEvent } from '@sigflow/events';
import type { PartitionBatch } from '@sigflow/kafka/data-path';
import type { PartitionMessage } from './batch-changes.js';

/** A message that failed decoding, bound for the dead-letter topic with its reason. */
export interface DeadLetter {
  readonly offset: number;
  readonly reason: string;
  readonly payload: string;
}

/** Dead letters keep the start of the offending payload, enough to diagnose it. */
const MAX_DEAD_LETTER_PAYLOAD = 16 * 1024;

/**
 * Decodes a partition batch against the event contract: each message is either an event
 * (`ok`) or a dead letter with the reason, never an exception, so one poison message cannot
 * stop its partition.
 */
export function decodeBatch(batch: PartitionBatch): { messages: PartitionMessage[]; deadLetters: DeadLetter[] } {
  const messages: PartitionMessage[] = [];
  const deadLetters: DeadLetter[] = [];
  for (let i = 0; i < batch.offsets.length; i++) {
    const offset = batch.offsets[i] as number;
    const value = batch.values[i] ?? null;
    try {
      messages.push({ offset, event: decodeEvent(value) });
    } catch (err) {
      const payload = value?.toString('utf8') ?? '';
      deadLetters.push({ offset, reason: (err as Error).message, payload: payload.slice(0, MAX_DEAD_LETTER_PAYLOAD) });
    }
  }
  return { messages, deadLetters };
}
