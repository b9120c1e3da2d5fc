import type { RedisClient, StoreKeys } from '@sigflow/store';
import { readSegmentDefinitions, readSegmentsVersion } from '@sigflow/store/segments-alerts';
import { compileSegmentSet, emptySegmentSet, type SegmentRuleLimits, type SegmentSet } from '@sigflow/core';
import type { Logger } from '@sigflow/observability';

/**
 * The segment definitions in force, compiled. The speed layer polls the definitions' version
 * (cheap) and reloads them only when it moved, so a new or changed definition applies from each
 * user's next event after the poll (DESIGN.md "Segments").
 */
export class SegmentSetCache {
  private set: SegmentSet = emptySegmentSet;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: StoreKeys,
    private readonly limits: SegmentRuleLimits,
    private readonly logger: Logger,
  ) {}

  current(): SegmentSet {
    return this.set;
  }

  /** The ids of the segments in force. */
  ids(): string[] {
    return this.set.segments.map((s) => s.id);
  }

  /** Reloads the definitions if their version moved. */
  async refresh(): Promise<void> {
    if ((await readSegmentsVersion(this.redis, this.keys)) === this.set.version) return;
    const { version, definitions } = await readSegmentDefinitions(this.redis, this.keys);
    const { set, skipped } = compileSegmentSet(definitions, version, this.limits);
    for (const s of skipped) this.logger.error({ segment: s }, 'segment definition no longer valid; not evaluated');
    this.set = set;
    this.logger.info({ version, segments: set.segments.length }, 'segment definitions loaded');
  }

  start(everyMs: number): void {
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.logger.warn({ err }, 'segment definitions refresh failed'));
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
