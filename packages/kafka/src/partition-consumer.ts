import { ConnectionPool, Consumer, type fetchV17 } from '@platformatic/kafka';
import './tagged-fields.js';
import './contiguous-responses.js';
import type { KafkaLogSink } from './client.js';
import type { ConnectionSecurity } from './connection-security.js';

type FetchResponse = fetchV17.FetchResponse;
import { fetchErrorAction, partitionErrors, type FetchErrorAction } from './fetch-errors.js';

/** One partition's fetched records, in offset order, all at or after the requested offset. */
export interface PartitionFetch {
  readonly topic: string;
  readonly partition: number;
  /** Offsets of the records (JS numbers: offsets past 2^53 are refused). */
  readonly offsets: readonly number[];
  /** Values of the records (null for tombstones). */
  readonly values: readonly (Buffer | null)[];
  /** The offset after the last record of this fetch. */
  readonly nextOffset: number;
  /** The partition's high watermark when fetched (lag = highWatermark - nextOffset). */
  readonly highWatermark: number;
}

/**
 * What a service does with its partitions. The consumer owns membership, heartbeats, leaders,
 * fetching and retries; the handler owns offsets (where to resume) and the records.
 */
export interface PartitionHandler {
  /**
   * Partitions newly assigned to this member. Resolves with the offset to resume each from;
   * a partition missing from the answer starts at the log start.
   */
  assigned(partitions: readonly number[]): Promise<ReadonlyMap<number, number>>;
  /** Partitions taken away (a rebalance, or leaving the group). Finish or drop their work. */
  revoked(partitions: readonly number[]): Promise<void>;
  /**
   * One fetch round: a fetch for each partition that had records. Resolve when the next round
   * may be handed over (backpressure); each partition is fetched on from its `nextOffset`
   * unless the answer moves it (`seeks`).
   */
  records(fetches: readonly PartitionFetch[]): Promise<RoundAnswer | void> | RoundAnswer | void;
  /** Called once per fetch round with nothing fetched for any partition (idle). */
  idle?(): Promise<RoundAnswer | void> | RoundAnswer | void;
}

/** What a handler says after a round. */
export interface RoundAnswer {
  /** Partitions to fetch next from another offset (e.g. back to the last one committed). */
  readonly seeks?: ReadonlyMap<number, number>;
}

/** Settings of a {@link PartitionConsumer}; defaults live in `@sigflow/config`. */
export interface PartitionConsumerOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly groupId: string;
  /** KIP-345 static membership: a member restarted with the same id rejoins with no rebalance. */
  readonly groupInstanceId: string;
  readonly topic: string;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  /** How long the broker may hold a fetch open waiting for records. */
  readonly maxWaitMs: number;
  /**
   * Bytes a fetch round asks of each partition; without it, each owned partition asks an even
   * share of `maxBytes` (at least {@link MIN_PARTITION_BYTES}), so a round's size stays the same
   * however many partitions the member owns.
   */
  readonly maxBytesPerPartition?: number;
  /** Bytes of a fetch round's answer. */
  readonly maxBytes: number;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly log?: KafkaLogSink;
  /** TLS and SASL (`connectionSecurity` of the configuration); none by default. */
  readonly security?: ConnectionSecurity;
}

/** The least a partition asks of a fetch when the members' partitions share `maxBytes` (a broker answers at least one whole batch anyway). */
export const MIN_PARTITION_BYTES = 65_536;

interface PartitionCursor {
  next: number;
  /** Set by a handler's seek: an answer of a fetch still in flight for the old offset is stale. */
  seekTo: number | null;
  /**
   * Where the partition stood after the last round the handler took: a round that fails after
   * `next` moved (a metadata refresh, an offset lookup or the handler throwing) resumes here, so
   * its records are fetched and handed over again rather than skipped.
   */
  handed: number;
}

/** The answers of one fetch round, one per leader, with the offsets each partition was asked at. */
type FetchRound = { response: FetchResponse; requested: Map<number, number> }[];

type MembershipChange = { readonly kind: 'assign'; readonly partitions: readonly number[] };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * A consumer-group member that fetches its assigned partitions of one topic and hands each
 * partition's records to a {@link PartitionHandler}, built on `@platformatic/kafka`: its group
 * protocol (with static membership) and its Fetch API, without its per-message stream (which
 * costs ~9 µs a message here against ~2 µs for the fetch alone; see the README).
 *
 * One fetch request per leader covers every assigned partition; the next fetch starts when the
 * handler resolved for every partition of the previous one. Group offsets are never committed
 * here: handlers keep their own (the speed layer in Redis, the archiver with {@link commit}).
 */
export class PartitionConsumer {
  private readonly consumer: Consumer;
  /**
   * The fetches' own connections. A broker answers one connection's requests in order, so a
   * fetch waiting up to `maxWaitMs` for records held back every group request queued behind it
   * on the consumer's connection: the archiver's offset commits took 251-382 ms once its topic
   * was drained (maxWaitMs 500), heartbeats likewise. `@platformatic/kafka`'s own message
   * stream keeps its fetches apart the same way.
   */
  private readonly fetchPool: ConnectionPool;
  private readonly cursors = new Map<number, PartitionCursor>();
  private readonly changes: MembershipChange[] = [];
  private topicId: string | null = null;
  private leaders = new Map<number, { node: number; epoch: number }>();
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private joined = false;

  constructor(
    private readonly options: PartitionConsumerOptions,
    private readonly handler: PartitionHandler,
  ) {
    this.consumer = new Consumer({
      clientId: options.clientId,
      bootstrapBrokers: [...options.brokers],
      groupId: options.groupId,
      groupInstanceId: options.groupInstanceId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      connectTimeout: options.connectTimeoutMs,
      timeout: options.requestTimeoutMs,
      retries: 3,
      retryDelay: 200,
      ...options.security,
    });
    this.fetchPool = new ConnectionPool(`${options.clientId}-fetch`, {
      ...options.security,
      connectTimeout: options.connectTimeoutMs,
      requestTimeout: options.requestTimeoutMs + options.maxWaitMs,
    });
    this.consumer.on('consumer:group:join', (payload) => {
      const mine = payload.assignments?.find((a) => a.topic === options.topic)?.partitions ?? [];
      this.changes.push({ kind: 'assign', partitions: [...mine].sort((a, b) => a - b) });
      this.joined = true;
      this.wake?.();
    });
    this.consumer.on('consumer:group:rebalance', () => options.log?.info({ groupId: options.groupId }, 'group rebalancing'));
  }

  /** True once the member has joined its group (readiness). */
  get inGroup(): boolean {
    return this.joined && this.running;
  }

  /** The partitions this member fetches now. */
  get partitions(): number[] {
    return [...this.cursors.keys()].sort((a, b) => a - b);
  }

  /**
   * Joins the group and starts fetching in the background. A broker that is still starting
   * (no metadata yet, or a group coordinator not yet elected: `__consumer_offsets` is created on
   * the first join) is waited for with backoff until the join succeeds or {@link stop} is called.
   */
  async start(): Promise<void> {
    this.consumer.topics.trackAll(this.options.topic);
    this.running = true;
    for (let failures = 1; !this.joined; failures++) {
      try {
        await this.refreshMetadata();
        await this.consumer.joinGroup({});
        break;
      } catch (err) {
        if (!this.running) return;
        const delay = Math.min(5_000, 100 * 2 ** Math.min(failures, 6));
        this.options.log?.warn({ err, delay, groupId: this.options.groupId }, 'joining the group failed; retrying');
        await sleep(delay);
      }
    }
    if (!this.running) return;
    this.loop = this.run().catch((err: unknown) => {
      this.options.log?.error({ err }, 'partition consumer stopped on an error');
      this.running = false;
      throw err;
    });
    this.loop.catch(() => undefined);
  }

  /**
   * Stops fetching, lets the handler finish (revoked), leaves the group so the partitions move
   * at once (a graceful stop), and closes the connections.
   */
  async stop({ leaveGroup = true }: { leaveGroup?: boolean } = {}): Promise<void> {
    if (!this.running) {
      await this.closeConnections();
      return;
    }
    this.running = false;
    this.wake?.();
    await this.loop?.catch(() => undefined);
    const owned = this.partitions;
    this.cursors.clear();
    if (owned.length > 0) await this.handler.revoked(owned);
    if (leaveGroup) {
      await new Promise<void>((resolve) =>
        this.consumer.leaveGroup(true, (err) => {
          if (err) this.options.log?.warn({ err }, 'leave group failed');
          resolve();
        }),
      );
    }
    await this.closeConnections();
  }

  private async closeConnections(): Promise<void> {
    await this.fetchPool.close().catch((err: unknown) => this.options.log?.warn({ err }, 'closing the fetch connections failed'));
    await new Promise<void>((resolve) => this.consumer.close(true, () => resolve()));
  }

  /** Moves partitions' next fetch (a handler's answer): an answer in flight for the old offset is stale. */
  private seek(seeks: ReadonlyMap<number, number> | undefined): void {
    for (const [partition, offset] of seeks ?? []) {
      const cursor = this.cursors.get(partition);
      if (!cursor) continue;
      cursor.next = offset;
      cursor.seekTo = offset;
    }
  }

  /** Commits group offsets (for handlers that keep their offsets in Kafka). */
  async commit(offsets: ReadonlyMap<number, number>): Promise<void> {
    const list = [...offsets].map(([partition, offset]) => ({
      topic: this.options.topic,
      partition,
      offset: BigInt(offset),
      leaderEpoch: this.leaders.get(partition)?.epoch ?? -1,
    }));
    if (list.length > 0) await this.consumer.commit({ offsets: list });
  }

  /** Committed group offsets of partitions (absent: none committed). */
  async committed(partitions: readonly number[]): Promise<Map<number, number>> {
    const answer = await this.consumer.listCommittedOffsets({ topics: [{ topic: this.options.topic, partitions: [...partitions] }] });
    const offsets = answer.get(this.options.topic) ?? [];
    const out = new Map<number, number>();
    partitions.forEach((p, i) => {
      const o = offsets[i];
      if (o !== undefined && o >= 0n) out.set(p, Number(o));
    });
    return out;
  }

  /** Log start (`earliest`) or end (`latest`) offsets of partitions. */
  async logOffsets(partitions: readonly number[], which: 'earliest' | 'latest'): Promise<Map<number, number>> {
    const answer = await this.consumer.listOffsets({
      topics: [this.options.topic],
      partitions: { [this.options.topic]: [...partitions] },
      timestamp: which === 'earliest' ? -2n : -1n,
    });
    const offsets = answer.get(this.options.topic) ?? [];
    return new Map(partitions.map((p) => [p, Number(offsets[p] ?? 0n)]));
  }

  private async run(): Promise<void> {
    let failures = 0;
    let prefetched: Promise<FetchRound> | null = null;
    while (this.running) {
      try {
        await this.applyMembershipChanges();
        if (this.cursors.size === 0) {
          prefetched = null;
          await this.waitForChange(1_000);
          continue;
        }
        const round = await (prefetched ?? this.fetchAll());
        const fetches = await this.advance(round);
        // The next fetch goes out before this one's records are handled: the broker reads
        // while the handler works. A seek or revocation meanwhile makes its answer stale.
        prefetched = this.running && this.changes.length === 0 ? this.fetchAll() : null;
        prefetched?.catch(() => undefined);
        await this.handOver(fetches);
        for (const cursor of this.cursors.values()) cursor.handed = cursor.next;
        failures = 0;
      } catch (err) {
        prefetched = null;
        // Nothing of the failed round counts as handed over: every partition fetches it again.
        for (const cursor of this.cursors.values()) cursor.next = cursor.seekTo ?? cursor.handed;
        failures++;
        const delay = Math.min(2_000, 100 * 2 ** Math.min(failures, 5));
        this.options.log?.warn({ err, delay }, 'fetch failed; retrying');
        await sleep(delay);
        await this.refreshMetadata().catch(() => undefined);
      }
    }
  }

  private waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async applyMembershipChanges(): Promise<void> {
    const change = this.changes.splice(0).pop();
    if (!change) return;
    const wanted = new Set(change.partitions);
    const revoked = this.partitions.filter((p) => !wanted.has(p));
    const added = change.partitions.filter((p) => !this.cursors.has(p));
    for (const p of revoked) this.cursors.delete(p);
    if (revoked.length > 0) await this.handler.revoked(revoked);
    if (added.length === 0) return;
    await this.refreshMetadata();
    const resume = await this.handler.assigned(added);
    const missing = added.filter((p) => !resume.has(p));
    const starts = missing.length > 0 ? await this.logOffsets(missing, 'earliest') : new Map<number, number>();
    for (const p of added) {
      const next = resume.get(p) ?? starts.get(p) ?? 0;
      this.cursors.set(p, { next, seekTo: null, handed: next });
    }
    this.options.log?.info({ partitions: this.partitions, added, revoked }, 'partitions assigned');
  }

  private async refreshMetadata(): Promise<void> {
    const metadata = await this.consumer.metadata({ topics: [this.options.topic], forceUpdate: true });
    const topic = metadata.topics.get(this.options.topic);
    if (!topic) throw new Error(`topic ${this.options.topic} has no metadata`);
    this.topicId = topic.id;
    this.leaders = new Map(topic.partitions.map((p, i) => [i, { node: p.leader, epoch: p.leaderEpoch }]));
  }

  /** One fetch per leader for every owned partition, at the partitions' cursors. */
  private async fetchAll(): Promise<FetchRound> {
    const byLeader = new Map<number, number[]>();
    for (const p of this.cursors.keys()) {
      const leader = this.leaders.get(p);
      if (!leader || leader.node < 0) throw new Error(`partition ${p} has no leader`);
      const list = byLeader.get(leader.node) ?? [];
      list.push(p);
      byLeader.set(leader.node, list);
    }
    return Promise.all([...byLeader].map(([node, parts]) => this.fetchFrom(node, parts)));
  }

  /**
   * Takes a fetch round's records: per partition whose cursor is still where the request was
   * made, the fetch to hand over, with the cursor moved past it. Errors per partition refresh
   * metadata, reset an out-of-range cursor, or fail.
   */
  private async advance(round: FetchRound): Promise<PartitionFetch[]> {
    const fetches: PartitionFetch[] = [];
    let refresh = false;
    for (const { response, requested } of round) {
      for (const topic of response.responses) {
        for (const part of topic.partitions) {
          const action = part.errorCode === 0 ? null : fetchErrorAction(part.errorCode);
          if (action) {
            refresh ||= await this.onPartitionError(part.partitionIndex, part.errorCode, action);
            continue;
          }
          const fetch = this.fetchOf(part, requested.get(part.partitionIndex));
          if (fetch) fetches.push(fetch);
        }
      }
    }
    if (refresh) await this.refreshMetadata();
    return fetches;
  }

  /** Hands a round's fetches to the handler at once (it may process partitions together). */
  private async handOver(fetches: readonly PartitionFetch[]): Promise<void> {
    const answer = fetches.length === 0 ? await this.handler.idle?.() : await this.handler.records(fetches);
    this.seek(answer?.seeks);
  }

  private async fetchFrom(node: number, partitions: number[]): Promise<{ response: FetchResponse; requested: Map<number, number> }> {
    const requested = new Map<number, number>();
    const share = this.options.maxBytesPerPartition ?? Math.max(MIN_PARTITION_BYTES, Math.floor(this.options.maxBytes / Math.max(1, this.cursors.size)));
    const request = partitions.map((p) => {
      const cursor = this.cursors.get(p) as PartitionCursor;
      const epoch = this.leaders.get(p)?.epoch ?? -1;
      requested.set(p, cursor.next);
      return { partition: p, fetchOffset: BigInt(cursor.next), partitionMaxBytes: share, currentLeaderEpoch: epoch, lastFetchedEpoch: -1 };
    });
    try {
      const response = await this.consumer.fetch({
        node,
        topics: [{ topicId: this.topicId as string, partitions: request }],
        maxWaitTime: this.options.maxWaitMs,
        minBytes: 1,
        maxBytes: this.options.maxBytes,
        connectionPool: this.fetchPool,
      });
      return { response, requested };
    } catch (err) {
      const response = partitionErrors(err);
      if (!response) throw err;
      return { response, requested };
    }
  }

  private async onPartitionError(partition: number, code: number, action: FetchErrorAction): Promise<boolean> {
    const cursor = this.cursors.get(partition);
    if (!cursor) return false;
    if (action === 'reset') {
      const start = (await this.logOffsets([partition], 'earliest')).get(partition) ?? 0;
      this.options.log?.warn({ partition, from: cursor.next, to: start, code }, 'offset out of range: resuming at the log start');
      cursor.next = start;
      return false;
    }
    if (action === 'fatal') throw new Error(`fetch of partition ${partition} failed with Kafka error ${code}`);
    return true;
  }

  /** One partition's records of a fetch answer, moving its cursor; null when none or stale. */
  private fetchOf(part: FetchResponse['responses'][number]['partitions'][number], requested: number | undefined): PartitionFetch | null {
    const cursor = this.cursors.get(part.partitionIndex);
    // A seek since the request was sent makes its answer stale.
    if (!cursor || requested === undefined || cursor.next !== requested) return null;
    cursor.seekTo = null;
    const offsets: number[] = [];
    const values: (Buffer | null)[] = [];
    let next = requested;
    for (const batch of part.records ?? []) {
      const first = Number(batch.firstOffset);
      next = Math.max(next, first + batch.lastOffsetDelta + 1);
      if ((batch.attributes & 0x20) !== 0) continue; // control batch (transaction markers)
      for (const record of batch.records) {
        const offset = first + record.offsetDelta;
        if (offset < requested) continue;
        offsets.push(offset);
        values.push(record.value ?? null);
      }
    }
    if (!Number.isSafeInteger(next)) throw new Error(`partition ${part.partitionIndex}: offset ${next} is past 2^53`);
    cursor.next = next;
    if (offsets.length === 0) return null;
    return { topic: this.options.topic, partition: part.partitionIndex, offsets, values, nextOffset: next, highWatermark: Number(part.highWatermark) };
  }
}
