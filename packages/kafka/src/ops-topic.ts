import { opsRecordKey, parseOpsRecord, type OpsRecord } from '@sigflow/events';
import type { KafkaClient } from './client.js';
import { EventProducer } from './event-producer.js';
import { readTopic } from './read-topic.js';
import { partitionOffsets } from './topic-offsets.js';

/**
 * The ops topic (`topicNames.ops`): appends decisions (each acknowledged by Kafka before the
 * caller goes on) and reads the latest record of every key back.
 */
export class OpsTopic {
  private readonly producer: EventProducer;
  private connected: Promise<void> | null = null;

  constructor(
    private readonly kafka: KafkaClient,
    readonly topic: string,
  ) {
    this.producer = new EventProducer(kafka, topic, { timeoutMs: 10_000 });
  }

  /** Appends records; resolves once Kafka acknowledged all of them. */
  async append(records: readonly OpsRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.connected ??= this.producer.connect();
    await this.connected;
    await this.producer.send(records.map((r) => ({ key: opsRecordKey(r), value: JSON.stringify(r) })));
  }

  /**
   * The latest record of every key, in the order they were written (what a reader applies), read
   * from the topic's start to its end as it is now. Records that are not ops records are skipped.
   */
  async readLatest(timeoutMs = 30_000): Promise<OpsRecord[]> {
    const ends = await this.kafka.withAdmin(async (admin) => {
      const [starts, ends] = await Promise.all([partitionOffsets(admin, this.topic, 'earliest'), partitionOffsets(admin, this.topic, 'latest')]);
      return new Map([...ends].filter(([p, end]) => end > (starts.get(p) ?? 0)));
    });
    if (ends.size === 0) return [];
    const latest = new Map<string, OpsRecord>();
    await this.readUntil(ends, timeoutMs, (json) => {
      const record = parseOpsRecord(json);
      if (!record) return;
      const key = opsRecordKey(record);
      latest.delete(key);
      latest.set(key, record);
    });
    return [...latest.values()];
  }

  /** Reads every partition of `ends` from its start until the offset before its end. */
  private async readUntil(ends: Map<number, number>, timeoutMs: number, onValue: (json: string) => void): Promise<void> {
    const left = new Set(ends.keys());
    await readTopic(
      this.kafka,
      this.topic,
      (m) => {
        if (m.value) onValue(m.value.toString('utf8'));
        const end = ends.get(m.partition);
        if (end !== undefined && Number(m.offset) + 1 >= end) left.delete(m.partition);
        return left.size === 0;
      },
      timeoutMs,
      () => `reading ${this.topic} did not reach its end within ${timeoutMs} ms`,
    );
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect().catch(() => undefined);
  }
}
