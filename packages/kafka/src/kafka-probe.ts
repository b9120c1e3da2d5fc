import type { Admin } from '@platformatic/kafka';
import type { KafkaClient } from './client.js';

/**
 * Answers "is Kafka reachable?" for readiness probes: asks the broker for its cluster
 * description with a short timeout and remembers the answer briefly, so frequent probes
 * cost one request a second at most.
 */
export class KafkaProbe {
  private admin: Admin | undefined;
  private last: { at: number; ok: boolean } | undefined;
  private pending: Promise<boolean> | undefined;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly timeoutMs = 1_000,
    private readonly cacheMs = 1_000,
  ) {}

  async reachable(): Promise<boolean> {
    if (this.last && Date.now() - this.last.at < this.cacheMs) return this.last.ok;
    this.pending ??= this.ask().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async ask(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.timeoutMs);
    });
    const ask = (async () => {
      this.admin ??= this.kafka.admin({ retries: 0 });
      // No topics: the brokers and the controller only (what kafkajs's describeCluster asked).
      await this.admin.metadata({ topics: [], forceUpdate: true });
      return true;
    })().catch(() => false);
    const ok = await Promise.race([ask, timeout]);
    clearTimeout(timer);
    this.last = { at: Date.now(), ok };
    return ok;
  }

  async close(): Promise<void> {
    await this.admin?.close().catch(() => undefined);
  }
}
