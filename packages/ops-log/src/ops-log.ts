import { randomUUID } from 'node:crypto';
import type { SigflowConfig } from '@sigflow/config';
import { opsRecordKey, topicsFor, type OpsRecord } from '@sigflow/events';
import { configuredTopicLayout, createKafka, ensureTopics, OpsTopic } from '@sigflow/kafka';
import type { Logger } from '@sigflow/observability';
import { type RedisClient, StoreKeys, StoreLayoutError } from '@sigflow/store';
import { applyOpsRecords, markStore, opsRecordsOfStore, readStoreMarker, upgradeStoreMarker, withRestoreLease, type StoreMarker } from '@sigflow/store/ops';

/** What a service does once it finds that the store lost its data (after the shared restore). */
export type StoreLossHook = (records: readonly OpsRecord[]) => Promise<void>;

export interface OpsLogOptions {
  readonly config: SigflowConfig;
  readonly redis: RedisClient;
  readonly logger: Logger;
  /** This service's own steps after a loss (the batch layer's schedules and hours, say). */
  readonly onStoreLoss?: readonly StoreLossHook[];
  /** How often the store's marker is checked (ms); default 2,000. */
  readonly checkEveryMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * How long the restore lease outlives a holder that stopped renewing it (it renews every fifth
 * of it): a service that dies mid-restore holds the others' start-up this long at most.
 */
export const RESTORE_LEASE_MS = 15_000;

/**
 * Which decision a record is: its key, but a budget change by its campaign, time and author
 * (its key ends with a random part, drawn again when Redis's log is turned into records).
 */
function decisionOf(record: OpsRecord): string {
  if (record.kind !== 'budget-change') return opsRecordKey(record);
  const change = (record.value ?? {}) as { campaignId?: unknown; at?: unknown; by?: unknown };
  return `budget-change:${String(change.campaignId)}:${String(change.at ?? record.at)}:${JSON.stringify(change.by)}`;
}

/**
 * The durable copy of what ops decided (budgets and their log, segment and alert rules,
 * schedules, published models) and of privacy tombstones, in the compacted ops topic. Writers
 * {@link record} a decision before they write it to Redis, which caches it. Every service keeps
 * one and {@link watch}es the store's marker (`StoreKeys.storeMarker`, with a copy in each slot
 * of ops decisions): when it or a copy is gone, Redis lost its data (restarted empty, a failover
 * that lost it, a cluster's master and replica lost with their slots), and one service at a time (a lease)
 * writes back every decision Redis lacks, then a new marker; each service then runs its own
 * steps. Decisions Redis holds that the topic lacks (a release before the ops topic, a migration
 * stopped midway) are appended to it before the marker is written: `npm run jobs -- migrate`
 * runs that same check once, before the services start.
 */
export class OpsLog {
  private readonly topic: OpsTopic;
  private readonly kafka: ReturnType<typeof createKafka>;
  private readonly keys: StoreKeys;
  private seen: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<boolean> | null = null;
  private readonly holder = randomUUID();

  constructor(private readonly options: OpsLogOptions) {
    const { config, logger } = options;
    this.kafka = createKafka(config.kafka, { clientId: 'sigflow-ops-log', log: logger });
    this.topic = new OpsTopic(this.kafka, topicsFor(config.kafka.topicPrefix).ops);
    this.keys = new StoreKeys(config.redis.keyPrefix);
  }

  /** Appends decisions; resolves once Kafka acknowledged them (then write them to Redis). */
  record(records: readonly OpsRecord[]): Promise<void> {
    return this.topic.append(records);
  }

  /**
   * Makes sure the topics exist (a service that records decisions may be the first one started),
   * checks the store now (restoring it when it lost its data), then every `checkEveryMs`. A
   * check that fails (Redis or Kafka unreachable) is logged and tried again at the next.
   */
  async watch(): Promise<void> {
    const { config, logger } = this.options;
    await ensureTopics(this.kafka, topicsFor(config.kafka.topicPrefix), configuredTopicLayout(config.kafka, config.limits.retentionMs)).catch((err: unknown) =>
      logger.warn({ err }, 'making sure the topics exist failed (another process may be creating them)'),
    );
    const check = () => this.checkStore().catch((err: unknown) => this.options.logger.warn({ err }, 'store check failed; trying again'));
    // A store in a layout this release does not know stops the start; any other failure is tried again.
    await this.checkStore().catch((err: unknown) => {
      if (err instanceof StoreLayoutError) throw err;
      this.options.logger.warn({ err }, 'store check failed; trying again');
    });
    const every = this.options.checkEveryMs ?? 2_000;
    const tick = () => {
      this.timer = setTimeout(() => void check().finally(tick), every);
      this.timer.unref();
    };
    tick();
  }

  /**
   * Whether the store lost its data since this process last looked; when it did, it is restored
   * (by this process or another) before this resolves, and this service's hooks have run. The
   * speed layer calls it before it rebuilds a partition whose offsets it found gone.
   */
  checkStore(): Promise<boolean> {
    this.checking ??= this.check().finally(() => (this.checking = null));
    return this.checking;
  }

  private async check(): Promise<boolean> {
    const { redis, logger } = this.options;
    let marker = await readStoreMarker(redis, this.keys);
    if (marker) marker = await upgradeStoreMarker(redis, this.keys, marker);
    if (marker && marker.id === this.seen) return false;
    const first = this.seen === null && marker !== null;
    if (!marker) marker = await this.restore();
    const records = first ? [] : await this.topic.readLatest();
    if (!first) {
      // A store never marked reads the same: a new one also runs the recovery (from an empty log).
      const why = this.seen === null ? 'the store has no marker (new, or it lost its data)' : 'the store lost its data';
      logger.warn({ marker: marker.id }, `${why}: running this service's recovery`);
      for (const hook of this.options.onStoreLoss ?? []) await hook(records);
    }
    this.seen = marker.id;
    return !first;
  }

  /** Restores the store under the lease, or waits for the process that holds it; returns the new marker. */
  private async restore(): Promise<StoreMarker> {
    const { redis } = this.options;
    for (;;) {
      const restored = await withRestoreLease(redis, this.keys, this.holder, RESTORE_LEASE_MS, () => this.restoreHoldingLease());
      if (restored.held) return restored.value;
      await sleep(200);
      const marker = await readStoreMarker(redis, this.keys);
      if (marker) return marker;
    }
  }

  /** The ops topic's decisions back into Redis, the ones only Redis holds into the topic, then the marker. */
  private async restoreHoldingLease(): Promise<StoreMarker> {
    const { redis, config, logger } = this.options;
    const started = Date.now();
    const records = await this.topic.readLatest();
    if (records.length > 0) {
      const applied = await applyOpsRecords(redis, this.keys, records, { now: Date.now(), retentionMs: config.limits.retentionMs });
      logger.warn({ applied, records: records.length, ms: Date.now() - started }, 'restored the ops decisions and tombstones Redis lacked');
    }
    // Decisions only Redis holds (a release before the ops topic; a migration stopped
    // midway) go to the topic before the marker says the store is whole.
    const inTopic = new Set(records.map(decisionOf));
    const own = (await opsRecordsOfStore(redis, this.keys, Date.now())).filter((r) => !inTopic.has(decisionOf(r)));
    await this.topic.append(own);
    if (own.length > 0) logger.info({ records: own.length }, 'appended to the ops topic the decisions only Redis held');
    return markStore(redis, this.keys, Date.now());
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.checking?.catch(() => undefined);
    await this.topic.close();
  }
}
