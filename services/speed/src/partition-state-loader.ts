import type { Redis } from 'ioredis';
import {
  createIpState,
  createPartitionState,
  createUserState,
  parseIpState,
  parsePartitionState,
  parseUserState,
  type EventCopy,
  type IpState,
  type PartitionState,
  type UserState,
} from '@sigflow/core';
import type { ReceivedEvent } from '@sigflow/events';
import { hourStart, type StoreKeys } from '@sigflow/store';

/** Everything a partition batch needs from Redis, read in one round trip. */
export interface LoadedPartitionState {
  /** The next offset to process, as stored with the views; null before the first commit. */
  readonly offset: string | null;
  readonly partition: PartitionState;
  readonly users: Map<string, UserState>;
  /** Keyed by IP (within this partition). */
  readonly ips: Map<string, IpState>;
  /** Remembered copies by event_id (only ids of this batch are looked up). */
  readonly seen: Map<string, EventCopy>;
}

function parseCopy(value: string | null): EventCopy | undefined {
  if (value === null) return undefined;
  const [receivedAt, offset] = value.split(':');
  return { received_at: Number(receivedAt), offset: offset ?? '0' };
}

/** Encodes a remembered copy for the seen hash. */
export function encodeCopy(copy: EventCopy): string {
  return `${copy.received_at}:${copy.offset}`;
}

/**
 * Reads the partition's offset and watermark, the keyed state of every user and IP in the
 * batch, and the remembered copies of its event ids: one pipelined round trip.
 */
export async function loadPartitionState(
  redis: Redis,
  keys: StoreKeys,
  topic: string,
  partition: number,
  events: readonly ReceivedEvent[],
): Promise<LoadedPartitionState> {
  const userIds = [...new Set(events.map((e) => e.user_id))];
  const ipList = [...new Set(events.filter((e) => e.type === 'click' && e.ip !== undefined).map((e) => e.ip as string))];
  const seenByHour = new Map<number, string[]>();
  for (const e of events) {
    const h = hourStart(e.ts);
    const ids = seenByHour.get(h);
    if (ids) ids.push(e.event_id);
    else seenByHour.set(h, [e.event_id]);
  }

  const pipeline = redis.pipeline();
  pipeline.get(keys.speedOffset(topic, partition));
  pipeline.get(keys.speedPartition(topic, partition));
  if (userIds.length > 0) pipeline.mget(...userIds.map((u) => keys.userState(u)));
  if (ipList.length > 0) pipeline.mget(...ipList.map((ip) => keys.ipState(partition, ip)));
  const hours = [...seenByHour.entries()];
  for (const [h, ids] of hours) pipeline.hmget(keys.seenEvents(partition, h), ...ids);
  const results = await pipeline.exec();
  if (!results) throw new Error('Redis pipeline returned nothing');
  for (const [err] of results) if (err) throw err;
  const values = results.map(([, v]) => v);

  let i = 0;
  const offset = values[i++] as string | null;
  const partitionJson = values[i++] as string | null;
  const users = new Map<string, UserState>();
  if (userIds.length > 0) {
    const states = values[i++] as (string | null)[];
    userIds.forEach((u, k) => users.set(u, states[k] ? parseUserState(JSON.parse(states[k] as string)) : createUserState()));
  }
  const ips = new Map<string, IpState>();
  if (ipList.length > 0) {
    const states = values[i++] as (string | null)[];
    ipList.forEach((ip, k) => ips.set(ip, states[k] ? parseIpState(JSON.parse(states[k] as string)) : createIpState()));
  }
  const seen = new Map<string, EventCopy>();
  for (const [, ids] of hours) {
    const copies = values[i++] as (string | null)[];
    ids.forEach((id, k) => {
      const copy = parseCopy(copies[k] ?? null);
      if (copy) seen.set(id, copy);
    });
  }
  return {
    offset,
    partition: partitionJson ? parsePartitionState(JSON.parse(partitionJson)) : createPartitionState(),
    users,
    ips,
    seen,
  };
}
