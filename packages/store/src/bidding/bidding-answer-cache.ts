import type { Redis } from 'ioredis';
import { isCluster, type RedisClient } from '../redis-client.js';
import { readBiddingState } from './bidding-state.js';
import type { StoreKeys } from '../store-keys.js';

/** Redis's channel for client-side caching invalidations (RESP2: a redirected client subscribes to it). */
const invalidationChannel = '__redis__:invalidate';

/** How a read was answered, for the caller's metrics. */
export type CacheOutcome = 'hit' | 'miss' | 'bypass';

/** Options of {@link BiddingAnswerCache}. */
export interface BiddingAnswerCacheOptions {
  /** Longest an answer is served from memory without reading Redis again (ms; default 1,000). */
  readonly maxAgeMs?: number;
  /** Called once per read with how it was answered. */
  readonly onRead?: (outcome: CacheOutcome) => void;
}

interface Entry {
  readonly json: string;
  readonly until: number;
}

/**
 * Campaigns' bidding answers kept in this process and invalidated by Redis (server-assisted
 * client-side caching, `CLIENT TRACKING ... BCAST PREFIX <bidding answers>`): a bidder's read
 * costs no round trip while the answer is unchanged. A connection of its own receives the
 * invalidation of every answer written, expired or deleted, so a cached answer is replaced
 * within the time that message takes (well under a millisecond on one host), and no answer is
 * served older than `maxAgeMs`, or past its TTL, in any case.
 *
 * Served only while the invalidation connection is subscribed: while it is down the cache is
 * empty and every read goes to Redis. A read whose key was invalidated while it was in flight is
 * not kept (its reply may predate the write). On a Redis Cluster tracking is per node, so the
 * cache stands aside and every read is one GET.
 */
export class BiddingAnswerCache {
  private readonly entries = new Map<string, Entry>();
  /** Reads in flight, by key: an invalidation removes the token, and the reply is then not kept. */
  private readonly pending = new Map<string, object>();
  private readonly subscriber: Redis | null;
  private readonly maxAgeMs: number;
  private readonly onRead: (outcome: CacheOutcome) => void;
  private live = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: StoreKeys,
    options: BiddingAnswerCacheOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 1_000;
    this.onRead = options.onRead ?? (() => {});
    this.subscriber = isCluster(redis) ? null : redis.duplicate({ autoResubscribe: false, enableAutoPipelining: false, maxRetriesPerRequest: null });
    if (!this.subscriber) return;
    this.subscriber.on('ready', () => void this.track());
    this.subscriber.on('close', () => this.stand());
    // A lost connection shows as 'close' (served from Redis until 'ready' again); its error says nothing more.
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('messageBuffer', (_channel: Buffer, keys: Buffer[] | Buffer | null) => this.invalidate(keys));
  }

  /** A campaign's answer as stored (JSON text), null when there is none; from memory when it can be. */
  read(campaignId: string): Promise<string | null> {
    if (!this.live) {
      this.onRead('bypass');
      return readBiddingState(this.redis, this.keys, campaignId);
    }
    const key = this.keys.biddingState(campaignId);
    const cached = this.kept(key);
    if (cached !== undefined) return Promise.resolve(cached);
    this.onRead('miss');
    return this.fetch(key, campaignId);
  }

  /** A campaign's answer when memory holds a current one (counted as a hit), else undefined (nothing counted). */
  peek(campaignId: string): string | undefined {
    return this.live ? this.kept(this.keys.biddingState(campaignId)) : undefined;
  }

  private kept(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.until <= performance.now()) return undefined;
    this.onRead('hit');
    return entry.json;
  }

  /** Closes the invalidation connection. */
  close(): void {
    this.stand();
    this.subscriber?.disconnect();
  }

  private async fetch(key: string, campaignId: string): Promise<string | null> {
    const token = {};
    this.pending.set(key, token);
    // The answer's own TTL bounds its stay too: Redis announces an expiry only once it deletes
    // the key, which its expire cycle may do well after the TTL. One round trip (auto-pipelined).
    const [json, ttlMs] = await Promise.all([readBiddingState(this.redis, this.keys, campaignId), this.redis.pttl(key)]);
    if (this.pending.get(key) !== token) return json;
    this.pending.delete(key);
    const keepMs = ttlMs >= 0 ? Math.min(ttlMs, this.maxAgeMs) : this.maxAgeMs;
    if (json !== null && this.live) this.entries.set(key, { json, until: performance.now() + keepMs });
    return json;
  }

  /** On (re)connection: redirect this connection's own invalidations to itself, then subscribe. */
  private async track(): Promise<void> {
    const subscriber = this.subscriber as Redis;
    try {
      const id = String(await subscriber.client('ID'));
      await subscriber.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', id, 'BCAST', 'PREFIX', this.keys.biddingState(''));
      await subscriber.subscribe(invalidationChannel);
      this.live = true;
    } catch {
      // Not tracked (closing, or a Redis without CLIENT TRACKING): every read goes to Redis.
      this.stand();
    }
  }

  /** Stops serving from memory: nothing read before now is trusted again. */
  private stand(): void {
    this.live = false;
    this.entries.clear();
    this.pending.clear();
  }

  /** Invalidation of some keys; null: all of them (FLUSHALL, or the server lost track). */
  private invalidate(keys: Buffer[] | Buffer | null): void {
    if (keys === null) {
      this.entries.clear();
      this.pending.clear();
      return;
    }
    for (const buffer of Array.isArray(keys) ? keys : [keys]) {
      const key = buffer.toString();
      this.entries.delete(key);
      this.pending.delete(key);
    }
  }
}
