import type { AcceptedEvent, BatchValidation } from '@sigflow/events';
import type { EventMessage } from '@sigflow/kafka';
import type { PrivacyConfig } from '@sigflow/config';
import { privatizeIp, type TombstoneSet } from '@sigflow/privacy';

/**
 * Moves the events of deleted people from accepted to rejected (`user_deleted`, with the reason),
 * keeping the rejections in request order. Without tombstones nothing moves.
 */
export function splitDeleted(batch: BatchValidation, tombstones: TombstoneSet | undefined): BatchValidation {
  if (!tombstones || tombstones.size === 0) return batch;
  const accepted: AcceptedEvent[] = [];
  const rejected = [...batch.rejected];
  for (const a of batch.accepted) {
    if (!tombstones.isDeleted(a.event.user_id)) accepted.push(a);
    else rejected.push({ index: a.index, code: 'user_deleted', reason: "user_id: this person's data was deleted on request; their events are not kept" });
  }
  if (rejected.length > batch.rejected.length) rejected.sort((x, y) => x.index - y.index);
  return { accepted, rejected };
}

/**
 * The Kafka message of an accepted event: keyed by user, `received_at` stamped (the collector's
 * stamp wins over any client value), and in truncated IP mode the address truncated with the
 * flood rule's `ip_key` beside it. Otherwise the client's bytes are kept and the stamp appended.
 */
export function messageOf({ event, json }: AcceptedEvent, receivedAt: number, privacy: PrivacyConfig): EventMessage {
  const ip = privatizeIp(privacy.ipMode, privacy.salt, event.ip);
  if (ip === null) {
    return {
      key: event.user_id,
      value: event.received_at === undefined ? `${json.slice(0, -1)},"received_at":${receivedAt}}` : JSON.stringify({ ...event, received_at: receivedAt }),
    };
  }
  const { ip: _full, ...rest } = event;
  return { key: event.user_id, value: JSON.stringify({ ...rest, ...ip, received_at: receivedAt }) };
}
