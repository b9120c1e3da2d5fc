import type { EventKey } from '@sigflow/core';
import type { ReceivedEvent } from '@sigflow/events';

/**
 * The speed layer's round vocabulary, the bottom floor of the service: a round is what one
 * fetch of the owned partitions brings, processed together; a fetch is one partition's records
 * of it ("batch" names the batch layer only).
 */

/** One decoded message of a partition's fetch. */
export interface PartitionMessage {
  readonly offset: number;
  readonly event: ReceivedEvent;
}

/** A message that failed decoding, bound for the dead-letter topic with its reason. */
export interface DeadLetter {
  readonly offset: number;
  readonly reason: string;
  readonly payload: string;
}

/** A partition's fetched messages not processed yet, in offset order. */
export interface PendingMessages {
  messages: PartitionMessage[];
  deadLetters: DeadLetter[];
  /** The offset after the last fetched message. */
  fetchedNext: number;
  /** Whether the last fetch reached the partition's high watermark: nothing more to read for now. */
  caughtUp: boolean;
}

/** What one partition processes this round, and the offset its commit moves to. */
export interface AlignedPart {
  readonly messages: PartitionMessage[];
  readonly deadLetters: DeadLetter[];
  readonly nextOffset: number;
}

/** An `analytics.v1` message (an attributed conversion, a segment change), committed to the outbox with the views. */
export interface AnalyticsMessage {
  readonly key: string;
  readonly value: string;
}

/** The clicks of an IP committed by partitions this instance does not own, one list each. */
export type ForeignClicks = Map<string, EventKey[][]>;
