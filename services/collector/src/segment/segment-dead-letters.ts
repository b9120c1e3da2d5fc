import type { RejectedEvent } from '@sigflow/events';
import type { EventMessage } from '@sigflow/kafka';
import type { SegmentRejectionCode, SegmentRequestContext } from './segment-message.js';

/** A Segment message refused at the collector: its index, and why (a mapping's code or the contract's). */
export type SegmentRejection = RejectedEvent | { readonly index: number; readonly code: SegmentRejectionCode; readonly reason: string };

/**
 * A refused message as the dead-letter topic keeps it: where it came from (`collector.segment`,
 * the write key's site), the code and reason, when it was received, and the message itself
 * whole, as JSON (at most the request's 500 KB; keyed by its `messageId` when it has one).
 */
export function deadLetterOf(rejection: SegmentRejection, message: unknown, context: SegmentRequestContext): EventMessage {
  const messageId = typeof message === 'object' && message !== null ? (message as Record<string, unknown>)['messageId'] : undefined;
  return {
    key: typeof messageId === 'string' ? messageId : `${context.site}:${context.receivedAt}:${rejection.index}`,
    value: JSON.stringify({
      source: 'collector.segment',
      site: context.site,
      code: rejection.code,
      reason: rejection.reason,
      received_at: context.receivedAt,
      message,
    }),
  };
}
